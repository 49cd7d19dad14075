import type { AgentStatus, Network, Switch } from "@switchboard/shared";
import { useNavigate } from "react-router";
import { plural } from "../../components/format.ts";
import { linkState } from "../../live/live-cache.ts";
import { useNetworkLinks } from "../networks/queries.ts";
import { layoutNodes, pairs } from "./topology-layout.ts";

const WIDTH = 560;
const RADIUS = 36;

const LINK_STYLE = {
  up: { stroke: "var(--mantine-color-green-6)", dash: undefined, label: "up" },
  down: { stroke: "var(--mantine-color-red-6)", dash: "6 5", label: "down" },
  unknown: { stroke: "var(--mantine-color-gray-4)", dash: "2 6", label: "no report yet" },
} as const;

function nodeColor(status: AgentStatus | undefined): string {
  if (!status?.enrolled) return "var(--mantine-color-gray-5)";
  return status.online ? "var(--mantine-color-green-6)" : "var(--mantine-color-red-6)";
}

/** One network drawn: switches as nodes (agent state, hosts online), every backbone link up/down. */
export function NetworkTopology({
  network,
  switches,
  statuses,
  hostsOn,
}: {
  network: Network;
  switches: readonly Switch[];
  statuses: ReadonlyMap<string, AgentStatus>;
  hostsOn: ReadonlyMap<string, number>;
}) {
  const navigate = useNavigate();
  const ends = useNetworkLinks(network.id).data ?? [];
  // Two switches sit side by side and need less height than a ring.
  const HEIGHT = switches.length <= 2 ? 190 : 320;
  const points = layoutNodes(switches.length, WIDTH, HEIGHT, RADIUS + 50);
  const summary = switches
    .map((sw) => {
      const status = statuses.get(sw.id);
      return `${sw.name}: agent ${status?.online ? "online" : "offline"}, ${plural(hostsOn.get(sw.id) ?? 0, "host")}`;
    })
    .join("; ");

  return (
    <svg
      className="topology"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      width="100%"
      role="img"
      aria-label={`Network ${network.name}: ${summary || "no switches"}`}
      data-testid={`topology-${network.name}`}
    >
      {pairs(switches.length).map(([a, b]) => {
        const from = points[a];
        const to = points[b];
        const swA = switches[a];
        const swB = switches[b];
        if (!from || !to || !swA || !swB) return null;
        const kind = linkState(ends, swA.id, swB.id);
        const style = LINK_STYLE[kind];
        return (
          <g key={`${swA.id}-${swB.id}`} data-link={`${swA.name}-${swB.name}`} data-state={kind}>
            <title>{`${swA.name} ↔ ${swB.name}: ${style.label}`}</title>
            <line
              x1={from.x}
              y1={from.y}
              x2={to.x}
              y2={to.y}
              stroke={style.stroke}
              strokeWidth={3}
              strokeDasharray={style.dash}
              strokeLinecap="round"
            />
          </g>
        );
      })}
      {switches.map((sw, i) => {
        const point = points[i];
        if (!point) return null;
        const status = statuses.get(sw.id);
        const hosts = hostsOn.get(sw.id) ?? 0;
        return (
          // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>; it gets role, tabIndex and keys.
          <g
            key={sw.id}
            transform={`translate(${point.x} ${point.y})`}
            role="button"
            tabIndex={0}
            style={{ cursor: "pointer" }}
            onClick={() => navigate(`/switches/${sw.id}`)}
            onKeyDown={(event) => {
              if (event.key === "Enter" || event.key === " ") navigate(`/switches/${sw.id}`);
            }}
            data-switch={sw.name}
            data-hosts={hosts}
            data-agent={status?.online ? "online" : "offline"}
          >
            <title>{`${sw.name}: agent ${status?.online ? "online" : status?.enrolled ? "offline" : "not enrolled"}, ${plural(hosts, "host")} online`}</title>
            <circle r={RADIUS} fill="white" stroke={nodeColor(status)} strokeWidth={4} />
            <text textAnchor="middle" y={-4} fontSize={20} fontWeight={700} fill="var(--mantine-color-dark-7)">
              {hosts}
            </text>
            <text textAnchor="middle" y={14} fontSize={10} fill="var(--mantine-color-gray-6)">
              {hosts === 1 ? "host" : "hosts"}
            </text>
            <text textAnchor="middle" y={RADIUS + 18} fontSize={13} fontWeight={600} fill="var(--mantine-color-dark-7)">
              {sw.name}
            </text>
            <text textAnchor="middle" y={RADIUS + 33} fontSize={11} fill={nodeColor(status)}>
              {!status?.enrolled ? "agent not enrolled" : status.online ? "agent online" : "agent offline"}
            </text>
          </g>
        );
      })}
      {switches.length === 0 && (
        <text x={WIDTH / 2} y={HEIGHT / 2} textAnchor="middle" fill="var(--mantine-color-gray-6)">
          No switches yet
        </text>
      )}
    </svg>
  );
}

/**
 * The API side of routes, run first by `pnpm bench:routes`: how long `computeRoutes` takes for
 * every switch's route set, against the obvious way to write it, in the same run. The baseline
 * builds each switch's list on its own (every connected host, then a sort), with no input checks;
 * computeRoutes checks the snapshot and resolves each destination once for all switches. Both get
 * the same sessions and must produce the same routes. A person waits for this on every session
 * event that moves a host. Prints per size:
 *   compute-routes <S> switches x <H> hosts: p50 <ms> ms, max <ms> ms; per-switch loop p50 <ms> ms, max <ms> ms; ratio <loop/compute>
 */
import {
  backboneDeviceName,
  computeRoutes,
  formatIpv4,
  newestSessions,
  parseCidr,
  parseIpv4,
  type RenderNetwork,
  type RenderSwitch,
  type Route,
  type RouteHost,
  type RouteSnapshot,
  type RouteTable,
  serverDeviceName,
} from "@switchboard/shared";
import { ms, percentile } from "@switchboard/testkit/stats";

const network: RenderNetwork = {
  name: "bench",
  dataSubnet: "10.64.0.0/16",
  backboneSubnet: "10.200.200.0/24",
  proto: "udp",
  port: 1194,
  keepaliveInterval: 2,
  keepaliveTimeout: 10,
  dataCiphers: ["AES-256-GCM"],
  pushRoutes: [],
  dnsServers: [],
};

/** `switchCount` switches, `hostCount` hosts all connected (round robin), every tenth with a /28 behind it. */
function snapshot(switchCount: number, hostCount: number): RouteSnapshot {
  const dataBase = parseIpv4("10.64.0.0") ?? 0;
  const subnetBase = parseIpv4("172.16.0.0") ?? 0;
  const switches: RenderSwitch[] = Array.from({ length: switchCount }, (_, i) => ({
    id: `sw-${i}`,
    name: `sw-${i}`,
    endpointHost: `sw${i}.example.net`,
    endpointPort: 1194,
    dataAddress: formatIpv4(dataBase + 1 + i),
    poolStart: null,
    poolEnd: null,
    backboneAddress: `10.200.200.${i + 1}`,
    enabled: true,
  }));
  const hosts: RouteHost[] = Array.from({ length: hostCount }, (_, i) => ({
    commonName: `h-${String(i).padStart(6, "0")}`,
    address: formatIpv4(dataBase + 256 + i),
    subnets: i % 10 === 0 ? [`${formatIpv4(subnetBase + (i / 10) * 16)}/28`] : [],
    enabled: true,
  }));
  const sessions = hosts.map((host, i) => ({
    commonName: host.commonName,
    switchId: `sw-${i % switchCount}`,
    connectedAt: 1_767_225_600_000,
  }));
  return { network, switches, hosts, sessions };
}

/** The obvious version: each switch's list built from scratch and sorted on its own. */
function perSwitchLoop(s: RouteSnapshot): RouteTable {
  const byName = new Map(s.hosts.map((host) => [host.commonName, host]));
  const placement = newestSessions(s.sessions, (session) => byName.has(session.commonName));
  const tun = serverDeviceName(s.network);
  // Device names once per peer, as anyone would: they cost a network check each.
  const toward = new Map(
    s.switches.map((sw) => [sw.id, { via: sw.backboneAddress, dev: backboneDeviceName(s.network, sw) }]),
  );
  const table = new Map<string, Route[]>();
  for (const sw of s.switches) {
    const keyed: [number, Route][] = [];
    const push = (route: Route) => {
      const cidr = parseCidr(route.destination.includes("/") ? route.destination : `${route.destination}/32`);
      keyed.push([(cidr?.address ?? 0) * 64 + (cidr?.prefix ?? 0), route]);
    };
    for (const peer of s.switches) {
      if (peer.id === sw.id) continue;
      push({ destination: `${peer.dataAddress}/32`, ...(toward.get(peer.id) as { via: string; dev: string }) });
    }
    for (const [commonName, switchId] of placement) {
      const host = byName.get(commonName) as RouteHost;
      if (switchId === sw.id) {
        for (const subnet of host.subnets) push({ destination: subnet, via: host.address, dev: tun });
        continue;
      }
      const peer = toward.get(switchId) as { via: string; dev: string };
      push({ destination: `${host.address}/32`, ...peer });
      for (const subnet of host.subnets) push({ destination: subnet, ...peer });
    }
    keyed.sort((a, b) => a[0] - b[0]);
    table.set(
      sw.id,
      keyed.map(([, route]) => route),
    );
  }
  return table;
}

function timeOnce(run: () => RouteTable): { ms: number; table: RouteTable } {
  const started = performance.now();
  const table = run();
  return { ms: performance.now() - started, table };
}

export function benchComputeRoutes(): void {
  // Fewer repeats of the big one: its baseline takes tens of seconds a run.
  for (const [switchCount, hostCount, repeats] of [
    [20, 5_000, 9],
    [50, 50_000, 3],
  ] as const) {
    const s = snapshot(switchCount, hostCount);
    const compute: number[] = [];
    const loop: number[] = [];
    // One warm-up of each, then interleaved so load on the machine hits both alike.
    for (let i = -1; i < repeats; i++) {
      const a = timeOnce(() => computeRoutes(s));
      const b = timeOnce(() => perSwitchLoop(s));
      if (i === -1) {
        const mine = JSON.stringify(a.table.get("sw-0"));
        if (mine !== JSON.stringify(b.table.get("sw-0"))) throw new Error("the per-switch loop computes other routes");
        const expected = switchCount - 1 + hostCount - hostCount / switchCount + hostCount / 10;
        if (a.table.get("sw-0")?.length !== expected) throw new Error(`sw-0 has not the ${expected} routes it should`);
        continue;
      }
      compute.push(a.ms);
      loop.push(b.ms);
    }
    const p50 = percentile(compute, 50);
    console.log(
      `compute-routes ${switchCount} switches x ${hostCount} hosts: p50 ${ms(p50)} ms, max ${ms(Math.max(...compute))} ms; per-switch loop p50 ${ms(percentile(loop, 50))} ms, max ${ms(Math.max(...loop))} ms; ratio ${(percentile(loop, 50) / p50).toFixed(1)}`,
    );
  }
}

import { Badge, Tooltip } from "@mantine/core";
import type { AgentStatus } from "@switchboard/shared";
import { formatRelative } from "../../components/format.ts";

export function AgentBadge({ status }: { status: AgentStatus | undefined }) {
  if (!status)
    return (
      <Badge color="gray" variant="light">
        unknown
      </Badge>
    );
  if (!status.enrolled) {
    return (
      <Badge color="gray" variant="light" style={{ flexShrink: 0 }}>
        not enrolled
      </Badge>
    );
  }
  const label = status.online ? "online" : "offline";
  return (
    <Tooltip label={`Last seen ${formatRelative(status.lastSeenAt)}`}>
      <Badge
        color={status.online ? "green" : "red"}
        variant="light"
        data-testid="agent-badge"
        data-online={status.online}
      >
        {label}
      </Badge>
    </Tooltip>
  );
}

/** "3 / 3" applied vs desired revision; orange while the agent is behind. */
export function RevisionText({ status }: { status: AgentStatus | undefined }) {
  if (!status) return <>—</>;
  const behind = status.revisionApplied !== status.revisionDesired;
  return (
    <span style={{ color: behind ? "var(--mantine-color-orange-7)" : undefined }} data-testid="revision">
      {status.revisionApplied ?? "none"} / {status.revisionDesired}
    </span>
  );
}

import { Badge, Group, ScrollArea, Stack, Text } from "@mantine/core";
import type { AuditEvent, Switch } from "@switchboard/shared";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { useCan } from "../../auth/session.ts";
import { formatRelative } from "../../components/format.ts";
import { type LiveEvent, liveKeys } from "../../live/live-cache.ts";
import { useAuditPages } from "../audit/queries.ts";

interface Line {
  key: string;
  at: string;
  text: string;
  color: string;
  source: "live" | "audit";
}

export function describeLiveEvent(
  event: LiveEvent,
  switchName: (id: string | null) => string,
): Omit<Line, "key" | "source"> {
  const m = event.message;
  switch (m.type) {
    case "session":
      if (m.change === "connected")
        return {
          at: m.at,
          color: "green",
          text: `${m.session.commonName} came online on ${switchName(m.session.switchId)}`,
        };
      if (m.change === "roamed")
        return {
          at: m.at,
          color: "blue",
          text: `${m.session.commonName} moved from ${switchName(m.previousSwitchId)} to ${switchName(m.session.switchId)}`,
        };
      return {
        at: m.at,
        color: "gray",
        text: `${m.session.commonName} went offline (${switchName(m.session.switchId)})`,
      };
    case "agent": {
      const name = switchName(m.status.switchId);
      if (m.status.lastError) return { at: m.at, color: "red", text: `agent of ${name}: ${m.status.lastError}` };
      return {
        at: m.at,
        color: m.status.online ? "green" : "red",
        text: `agent of ${name} ${m.status.online ? `online, revision ${m.status.revisionApplied ?? "none"}` : "offline"}`,
      };
    }
    case "link":
      return {
        at: m.at,
        color: m.up ? "green" : "red",
        text: `backbone ${switchName(m.switchId)} ↔ ${switchName(m.peerSwitchId)} ${m.up ? "up" : "down"}`,
      };
    case "changed":
      return { at: m.at, color: "indigo", text: `${m.actor ?? "someone"}: ${m.action}` };
    case "session-conflict":
      return {
        at: m.at,
        color: "red",
        text:
          m.conflict.kind === "withdrawn"
            ? `${switchName(m.conflict.claimedBy)} claimed ${m.conflict.commonName} and could not back it up: claim withdrawn`
            : `${m.conflict.commonName} is listed by ${switchName(m.conflict.claimedBy)} and another switch at once`,
      };
  }
}

/** What happened lately: the live feed since the console opened, plus the audit log when the role may read it. */
export function RecentEvents({ switches }: { switches: readonly Switch[] }) {
  const client = useQueryClient();
  const canAudit = useCan("audit");
  const live =
    useQuery<LiveEvent[]>({
      queryKey: liveKeys.events,
      queryFn: () => client.getQueryData<LiveEvent[]>(liveKeys.events) ?? [],
      initialData: [],
      staleTime: Number.POSITIVE_INFINITY,
    }).data ?? [];
  const audit = useAuditPages({}, { limit: 20, enabled: canAudit });
  const names = useMemo(() => new Map(switches.map((s) => [s.id, s.name])), [switches]);

  const lines = useMemo(() => {
    const switchName = (id: string | null) => (id ? (names.get(id) ?? "a removed switch") : "an unknown switch");
    const fromLive: Line[] = live
      // Changes made through the API also arrive from the audit log; show them once.
      .filter((e) => !(canAudit && e.message.type === "changed"))
      .map((e) => ({ key: `live-${e.key}`, source: "live", ...describeLiveEvent(e, switchName) }));
    const fromAudit: Line[] = (audit.data?.pages[0]?.items ?? []).map((e: AuditEvent) => ({
      key: `audit-${e.id}`,
      at: e.at,
      source: "audit",
      color: "indigo",
      text: `${e.actorName}: ${e.action}`,
    }));
    return [...fromLive, ...fromAudit].sort((a, b) => b.at.localeCompare(a.at)).slice(0, 40);
  }, [live, audit.data, canAudit, names]);

  return (
    <ScrollArea.Autosize mah={520}>
      <Stack gap={6} data-testid="recent-events">
        {lines.length === 0 && (
          <Text c="dimmed" size="sm">
            Nothing yet. Events appear here as they happen.
          </Text>
        )}
        {lines.map((line) => (
          <Group key={line.key} gap="xs" wrap="nowrap" align="flex-start">
            <Badge size="xs" variant="dot" color={line.color} style={{ flexShrink: 0 }} mt={3}>
              {line.source}
            </Badge>
            <div>
              <Text size="sm">{line.text}</Text>
              <Text size="xs" c="dimmed">
                {formatRelative(line.at)}
              </Text>
            </div>
          </Group>
        ))}
      </Stack>
    </ScrollArea.Autosize>
  );
}

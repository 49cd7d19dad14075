import { Badge, Button, Card, Grid, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { IconPlus } from "@tabler/icons-react";
import { useMemo } from "react";
import { Link } from "react-router";
import { useCan } from "../../auth/session.ts";
import { plural } from "../../components/format.ts";
import { ListState } from "../../components/list-state.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { useAgentStatuses } from "../agents/queries.ts";
import { useNetworks } from "../networks/queries.ts";
import { useSessions } from "../sessions/queries.ts";
import { useSwitches } from "../switches/queries.ts";
import { NetworkTopology } from "./network-topology.tsx";
import { RecentEvents } from "./recent-events.tsx";

export function OverviewPage() {
  const networks = useNetworks();
  const switches = useSwitches();
  const sessions = useSessions();
  const isAdmin = useCan("admin");
  const allSwitches = switches.data ?? [];
  const statuses = useAgentStatuses(allSwitches.map((s) => s.id));
  const hostsOn = useMemo(() => {
    const counts = new Map<string, number>();
    for (const s of sessions.data ?? []) counts.set(s.switchId, (counts.get(s.switchId) ?? 0) + 1);
    return counts;
  }, [sessions.data]);
  const agentsOnline = allSwitches.filter((s) => statuses.get(s.id)?.online).length;

  return (
    <>
      <PageHeader title="Overview" description="Every network as it is now; it changes as the agents report." />
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Stack>
            <SimpleGrid cols={3}>
              <Stat label="Networks" value={networks.data?.length} />
              <Stat
                label="Agents online"
                value={switches.data ? `${agentsOnline} / ${allSwitches.length}` : undefined}
              />
              <Stat label="Hosts online" value={sessions.data?.length} testId="stat-hosts-online" />
            </SimpleGrid>
            <ListState
              query={networks}
              what="networks"
              empty={
                isAdmin && (
                  <Button component={Link} to="/networks" leftSection={<IconPlus size={16} />}>
                    Create a network
                  </Button>
                )
              }
            >
              {(data) =>
                data.map((network) => {
                  const own = allSwitches.filter((s) => s.networkId === network.id);
                  return (
                    <Card withBorder key={network.id} padding="md">
                      <Group justify="space-between" mb="xs">
                        <div>
                          <Title order={4}>{network.name}</Title>
                          <Text size="xs" c="dimmed" ff="monospace">
                            data {network.dataSubnet} · backbone {network.backboneSubnet}
                          </Text>
                        </div>
                        <Group gap="xs">
                          <Badge variant="light" color="gray" tt="none">
                            {plural(own.length, "switch", "switches")}
                          </Badge>
                          <Badge variant="light" color="green" tt="none">
                            {plural(
                              own.reduce((sum, s) => sum + (hostsOn.get(s.id) ?? 0), 0),
                              "host",
                            )}{" "}
                            online
                          </Badge>
                        </Group>
                      </Group>
                      <NetworkTopology network={network} switches={own} statuses={statuses} hostsOn={hostsOn} />
                      <Legend />
                    </Card>
                  );
                })
              }
            </ListState>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Card withBorder>
            <Title order={4} mb="sm">
              Recent events
            </Title>
            <RecentEvents switches={allSwitches} />
          </Card>
        </Grid.Col>
      </Grid>
    </>
  );
}

function Stat({ label, value, testId }: { label: string; value: string | number | undefined; testId?: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId}>
        {value ?? "…"}
      </Text>
    </Card>
  );
}

function Legend() {
  const item = (color: string, dash: string | undefined, label: string) => (
    <Group gap={6}>
      <svg width="28" height="8" aria-hidden="true">
        <line x1="2" y1="4" x2="26" y2="4" stroke={color} strokeWidth="3" strokeDasharray={dash} />
      </svg>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
    </Group>
  );
  return (
    <Group gap="md" mt="xs">
      {item("var(--mantine-color-green-6)", undefined, "link up")}
      {item("var(--mantine-color-red-6)", "6 5", "link down")}
      {item("var(--mantine-color-gray-4)", "2 6", "no report yet")}
      <Text size="xs" c="dimmed">
        Ring colour: agent online (green), offline (red), not enrolled (grey). Number: hosts connected.
      </Text>
    </Group>
  );
}

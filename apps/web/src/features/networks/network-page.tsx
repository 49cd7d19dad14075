import { Alert, Anchor, Button, Card, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import type { Network } from "@switchboard/shared";
import { IconPencil } from "@tabler/icons-react";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useCan } from "../../auth/session.ts";
import { notifyDone } from "../../components/confirm.tsx";
import { FormModal } from "../../components/form-modal.tsx";
import { formatDateTime, plural } from "../../components/format.ts";
import { ItemNotFound } from "../../components/item-not-found.tsx";
import { ListState } from "../../components/list-state.tsx";
import { AgentBadge, RevisionText } from "../agents/agent-badge.tsx";
import { useAgentStatuses } from "../agents/queries.ts";
import { buildHostRows } from "../hosts/host-rows.ts";
import { HostsTable } from "../hosts/hosts-table.tsx";
import { useHosts } from "../hosts/queries.ts";
import { sessionsByHost, useSessions } from "../sessions/queries.ts";
import { useSwitches } from "../switches/queries.ts";
import { NetworkForm } from "./network-form.tsx";
import { NetworkPkiCard } from "./network-pki-card.tsx";
import { indexById, useNetworks } from "./queries.ts";

/** One network: its settings, its PKI, and the switches and hosts in it. */
export function NetworkPage() {
  const { id = "" } = useParams();
  const networks = useNetworks();
  const network = networks.data?.find((n) => n.id === id);
  const isAdmin = useCan("admin");
  const [editing, setEditing] = useState(false);

  if (networks.isPending) return <Text c="dimmed">Loading network…</Text>;
  if (networks.isError) {
    return (
      <Alert color="red" title="Could not load the network" role="alert">
        <Button size="xs" variant="light" color="red" onClick={() => void networks.refetch()}>
          Try again
        </Button>
      </Alert>
    );
  }
  if (!network) return <ItemNotFound what="network" id={id} listPath="/networks" listName="networks" />;

  return (
    <Stack>
      <Group justify="space-between" align="flex-end" wrap="nowrap">
        <div>
          <Text size="sm" c="dimmed">
            <Anchor component={Link} to="/networks">
              Networks
            </Anchor>{" "}
            /
          </Text>
          <Title order={2}>{network.name}</Title>
          <Text c="dimmed" size="sm">
            {network.description || `Data ${network.dataSubnet}, backbone ${network.backboneSubnet}`}
          </Text>
        </div>
        {isAdmin && (
          <Button variant="default" leftSection={<IconPencil size={16} />} onClick={() => setEditing(true)}>
            Edit network
          </Button>
        )}
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <NetworkSettingsCard network={network} />
        <NetworkPkiCard network={network} />
      </SimpleGrid>
      <NetworkSwitches networkId={network.id} />
      <NetworkHosts network={network} />
      <FormModal opened={editing} onClose={() => setEditing(false)} title={`Edit ${network.name}`} size="xl">
        <NetworkForm
          network={network}
          onDone={(saved) => {
            setEditing(false);
            notifyDone(`Network ${saved.name} saved`);
          }}
        />
      </FormModal>
    </Stack>
  );
}

function NetworkSettingsCard({ network }: { network: Network }) {
  const rows: [string, string][] = [
    ["Data subnet", network.dataSubnet],
    ["Backbone subnet", network.backboneSubnet],
    ["Transport", `${network.proto.toUpperCase()} ${network.port}`],
    ["Keepalive", `every ${network.keepaliveInterval} s, restart after ${network.keepaliveTimeout} s`],
    ["Data ciphers", network.dataCiphers.join(", ")],
    ["Pushed routes", network.pushRoutes.join(", ") || "none"],
    ["DNS", [network.dnsServers.join(", "), network.dnsDomain].filter(Boolean).join(" · ") || "none"],
    ["Revision", String(network.revision)],
    ["Created", formatDateTime(network.createdAt)],
  ];
  return (
    <Card withBorder data-testid="network-settings">
      <Title order={4} mb="xs">
        Settings
      </Title>
      <Table variant="vertical" layout="fixed" withRowBorders={false} verticalSpacing={4} fz="sm">
        <Table.Tbody>
          {rows.map(([label, value]) => (
            <Table.Tr key={label}>
              <Table.Th w={150}>{label}</Table.Th>
              <Table.Td data-setting={label}>{value}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Card>
  );
}

function NetworkSwitches({ networkId }: { networkId: string }) {
  const switches = useSwitches();
  const sessions = useSessions();
  const shown = useMemo(() => switches.data?.filter((s) => s.networkId === networkId), [switches.data, networkId]);
  const statuses = useAgentStatuses((shown ?? []).map((s) => s.id));
  const hostsOn = (switchId: string) => sessions.data?.filter((s) => s.switchId === switchId).length ?? 0;

  return (
    <section aria-labelledby="network-switches-title">
      <Title order={3} id="network-switches-title" mb="xs">
        Switches
      </Title>
      <ListState
        query={{ ...switches, data: shown }}
        what="switches in this network"
        empty={
          <Anchor component={Link} to={`/switches?network=${networkId}`}>
            Add one on the switches page
          </Anchor>
        }
      >
        {(data) => (
          <Table striped highlightOnHover verticalSpacing="xs" data-testid="network-switches">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Endpoint</Table.Th>
                <Table.Th>Data address</Table.Th>
                <Table.Th>Backbone</Table.Th>
                <Table.Th>Agent</Table.Th>
                <Table.Th>Revision applied</Table.Th>
                <Table.Th>Hosts online</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.map((sw) => (
                <Table.Tr key={sw.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/switches/${sw.id}`} fw={500}>
                      {sw.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td ff="monospace">
                    {sw.endpointHost}:{sw.endpointPort}
                  </Table.Td>
                  <Table.Td ff="monospace">{sw.dataAddress}</Table.Td>
                  <Table.Td ff="monospace">{sw.backboneAddress}</Table.Td>
                  <Table.Td style={{ whiteSpace: "nowrap" }}>
                    <AgentBadge status={statuses.get(sw.id)} />
                  </Table.Td>
                  <Table.Td>
                    <RevisionText status={statuses.get(sw.id)} />
                  </Table.Td>
                  <Table.Td>{hostsOn(sw.id)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </ListState>
    </section>
  );
}

function NetworkHosts({ network }: { network: Network }) {
  const hosts = useHosts();
  const sessions = useSessions();
  const switches = useSwitches();
  const navigate = useNavigate();
  const rows = useMemo(() => {
    const mine = (hosts.data ?? []).filter((h) => h.networkId === network.id);
    return buildHostRows(
      mine,
      sessionsByHost(sessions.data),
      new Map([[network.id, network]]),
      indexById(switches.data),
    );
  }, [hosts.data, sessions.data, switches.data, network]);

  return (
    <section aria-labelledby="network-hosts-title">
      <Group justify="space-between" mb="xs">
        <Title order={3} id="network-hosts-title">
          Hosts
        </Title>
        {hosts.data && (
          <Text size="sm" c="dimmed" data-testid="network-hosts-count">
            {plural(rows.length, "host")}, {rows.filter((r) => r.online).length} online
          </Text>
        )}
      </Group>
      <ListState
        query={{ ...hosts, data: hosts.data && rows }}
        what="hosts in this network"
        empty={
          <Anchor component={Link} to="/hosts">
            Add hosts on the hosts page
          </Anchor>
        }
      >
        {(data) => (
          <HostsTable
            rows={data}
            onOpen={(hostId) => navigate(`/hosts?host=${hostId}`)}
            height={`${Math.min(data.length * 36 + 44, 480)}px`}
          />
        )}
      </ListState>
    </section>
  );
}

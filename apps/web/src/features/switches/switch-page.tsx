import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  ScrollArea,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  Title,
} from "@mantine/core";
import type { EnrollmentToken } from "@switchboard/shared";
import { IconKey, IconPencil, IconPlugConnectedX } from "@tabler/icons-react";
import { type ReactNode, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useCan } from "../../auth/session.ts";
import { confirmDanger, notifyDone, notifyError } from "../../components/confirm.tsx";
import { DeleteButton } from "../../components/delete-button.tsx";
import { FormModal } from "../../components/form-modal.tsx";
import { formatBytes, formatRelative } from "../../components/format.ts";
import { ItemNotFound } from "../../components/item-not-found.tsx";
import { ListState } from "../../components/list-state.tsx";
import { AgentBadge, RevisionText } from "../agents/agent-badge.tsx";
import { useAgentStatus } from "../agents/queries.ts";
import { indexById, useNetworks } from "../networks/queries.ts";
import { useSessions } from "../sessions/queries.ts";
import { EnrollmentCommand } from "./enrollment-command.tsx";
import {
  useCreateEnrollment,
  useDeleteSwitch,
  useRevokeAgentCredential,
  useSwitchBackbone,
  useSwitchConfig,
  useSwitches,
  useSwitchRoutes,
} from "./queries.ts";
import { ReissueCertificatesButton } from "./reissue-certificates-button.tsx";
import { diffRoutes } from "./route-diff.ts";
import { SwitchForm } from "./switch-form.tsx";

export function SwitchPage() {
  const { id = "" } = useParams();
  const switches = useSwitches();
  const sw = switches.data?.find((s) => s.id === id);
  const networks = useNetworks();
  const network = indexById(networks.data).get(sw?.networkId ?? "");
  const isAdmin = useCan("admin");
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const [enrollment, setEnrollment] = useState<EnrollmentToken>();
  const createEnrollment = useCreateEnrollment();
  const revokeCredential = useRevokeAgentCredential();
  const agent = useAgentStatus(id);
  const remove = useDeleteSwitch();

  if (switches.isPending) return <Text c="dimmed">Loading switch…</Text>;
  if (!sw) return <ItemNotFound what="switch" id={id} listPath="/switches" listName="switches" />;

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <div>
          <Text size="sm" c="dimmed">
            <Anchor component={Link} to="/switches">
              Switches
            </Anchor>{" "}
            / {network?.name}
          </Text>
          <Title order={2}>{sw.name}</Title>
          <Text c="dimmed" size="sm" ff="monospace">
            {sw.endpointHost}:{sw.endpointPort} · data {sw.dataAddress} · backbone {sw.backboneAddress}
            {sw.pool ? ` · pool ${sw.pool.start}–${sw.pool.end}` : ""}
          </Text>
        </div>
        {isAdmin && (
          <Group gap="sm">
            <Button variant="default" leftSection={<IconPencil size={16} />} onClick={() => setEditing(true)}>
              Edit
            </Button>
            <Button
              variant="default"
              leftSection={<IconKey size={16} />}
              loading={createEnrollment.isPending}
              onClick={() =>
                createEnrollment.mutate(sw.id, {
                  onSuccess: setEnrollment,
                  onError: (error) => notifyError("Could not create an enrollment token", error),
                })
              }
            >
              {agent.data?.enrolled === false ? "Enroll agent" : "New enrollment token"}
            </Button>
            {/* Nothing to revoke on a switch whose agent never enrolled (or was revoked already). */}
            {agent.data?.enrolled && (
              <Button
                variant="default"
                color="red"
                leftSection={<IconPlugConnectedX size={16} />}
                onClick={() =>
                  confirmDanger({
                    title: `Revoke the agent credential of ${sw.name}?`,
                    message: "The agent is disconnected and must be enrolled again with a new token.",
                    confirmLabel: "Revoke credential",
                    onConfirm: () => revokeCredential.mutateAsync(sw.id),
                    done: "Agent credential revoked",
                  })
                }
              >
                Revoke agent
              </Button>
            )}
            <ReissueCertificatesButton sw={sw} />
            <DeleteButton
              title={`Delete switch ${sw.name}?`}
              message="Its certificates are revoked and hosts connected to it move to another switch."
              confirmLabel="Delete switch"
              onConfirm={async () => {
                await remove.mutateAsync(sw.id);
                navigate("/switches");
              }}
              done={`Switch ${sw.name} deleted`}
            >
              Delete
            </DeleteButton>
          </Group>
        )}
      </Group>
      {enrollment && <EnrollmentCommand enrollment={enrollment} />}
      <AgentCard switchId={sw.id} />
      <Tabs defaultValue="sessions" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="sessions">Sessions</Tabs.Tab>
          <Tabs.Tab value="routes">Routes</Tabs.Tab>
          <Tabs.Tab value="config">Server config</Tabs.Tab>
          <Tabs.Tab value="backbone">Backbone links</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="sessions" pt="md">
          <SwitchSessions switchId={sw.id} />
        </Tabs.Panel>
        <Tabs.Panel value="routes" pt="md">
          <SwitchRoutesView switchId={sw.id} />
        </Tabs.Panel>
        <Tabs.Panel value="config" pt="md">
          <ConfigPreview switchId={sw.id} />
        </Tabs.Panel>
        <Tabs.Panel value="backbone" pt="md">
          <BackbonePreview switchId={sw.id} />
        </Tabs.Panel>
      </Tabs>
      <FormModal opened={editing} onClose={() => setEditing(false)} title={`Edit ${sw.name}`} size="xl">
        <SwitchForm
          sw={sw}
          onDone={(saved) => {
            setEditing(false);
            notifyDone(`Switch ${saved.name} saved`);
          }}
        />
      </FormModal>
    </Stack>
  );
}

function AgentCard({ switchId }: { switchId: string }) {
  const status = useAgentStatus(switchId);
  const data = status.data;
  const item = (label: string, value: ReactNode) => (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm">{value}</Text>
    </div>
  );
  return (
    <Card withBorder>
      <SimpleGrid cols={{ base: 2, md: 6 }}>
        {item("Agent", <AgentBadge status={data} />)}
        {item("Version", data?.agentVersion ?? "—")}
        {item("Revision applied / desired", <RevisionText status={data} />)}
        {item("Connected", formatRelative(data?.connectedAt))}
        {item("Last seen", formatRelative(data?.lastSeenAt))}
        {item("Enrolled", data ? (data.enrolled ? "yes" : "no") : "—")}
      </SimpleGrid>
      {data?.renderError && (
        <Alert color="red" title="Stored data cannot be rendered: the agent gets no new state" mt="md">
          <Code block>{data.renderError}</Code>
        </Alert>
      )}
      {data?.lastError && (
        <Alert color="red" title="Last error" mt="md">
          <Code block>{data.lastError}</Code>
        </Alert>
      )}
    </Card>
  );
}

function SwitchSessions({ switchId }: { switchId: string }) {
  const sessions = useSessions();
  const here = useMemo(() => (sessions.data ?? []).filter((s) => s.switchId === switchId), [sessions.data, switchId]);
  return (
    <ListState query={{ ...sessions, data: sessions.data && here }} what="sessions on this switch">
      {(data) => (
        <Table striped verticalSpacing="xs" data-testid="switch-sessions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Host</Table.Th>
              <Table.Th>From</Table.Th>
              <Table.Th>Connected</Table.Th>
              <Table.Th>Received</Table.Th>
              <Table.Th>Sent</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td fw={500}>{s.commonName}</Table.Td>
                <Table.Td ff="monospace">{s.realAddress}</Table.Td>
                <Table.Td>{formatRelative(s.connectedAt)}</Table.Td>
                <Table.Td>{formatBytes(s.bytesIn)}</Table.Td>
                <Table.Td>{formatBytes(s.bytesOut)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </ListState>
  );
}

const ROUTE_STATE = {
  applied: { color: "green", label: "applied" },
  missing: { color: "orange", label: "not applied" },
  extra: { color: "red", label: "not desired" },
  different: { color: "orange", label: "differs" },
} as const;

function SwitchRoutesView({ switchId }: { switchId: string }) {
  const routes = useSwitchRoutes(switchId);
  const rows = useMemo(() => (routes.data ? diffRoutes(routes.data.desired, routes.data.applied) : []), [routes.data]);
  return (
    <ListState query={{ ...routes, data: routes.data && rows }} what="routes">
      {(data) => (
        <Stack gap="xs">
          <Text size="sm" c="dimmed">
            {routes.data?.applied === null
              ? "The agent has not reported its routes since the API started."
              : `Reported by the agent ${formatRelative(routes.data?.reportedAt)}.`}
          </Text>
          {routes.data && routes.data.failed.length > 0 && (
            <Alert color="red" title="Routes the agent could not apply">
              {routes.data.failed.map((f) => (
                <Text key={f.destination} size="sm">
                  {f.destination}: {f.reason} — {f.message}
                </Text>
              ))}
            </Alert>
          )}
          <Table striped verticalSpacing="xs" data-testid="switch-routes">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Destination</Table.Th>
                <Table.Th>Desired via</Table.Th>
                <Table.Th>Applied via</Table.Th>
                <Table.Th>State</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.map((row) => (
                <Table.Tr key={row.destination}>
                  <Table.Td ff="monospace">{row.destination}</Table.Td>
                  <Table.Td ff="monospace">{row.desired ? `${row.desired.via} dev ${row.desired.dev}` : "—"}</Table.Td>
                  <Table.Td ff="monospace">{row.applied ? `${row.applied.via} dev ${row.applied.dev}` : "—"}</Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={ROUTE_STATE[row.state].color}>
                      {ROUTE_STATE[row.state].label}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stack>
      )}
    </ListState>
  );
}

function ConfigPreview({ switchId }: { switchId: string }) {
  const config = useSwitchConfig(switchId);
  return (
    <ListState query={config} what="the rendered config">
      {(text) => (
        <ScrollArea.Autosize mah={560}>
          <Code block data-testid="switch-config">
            {text}
          </Code>
        </ScrollArea.Autosize>
      )}
    </ListState>
  );
}

function BackbonePreview({ switchId }: { switchId: string }) {
  const links = useSwitchBackbone(switchId);
  return (
    <ListState query={links} what="backbone links">
      {(data) => (
        <Stack>
          {data.map((link) => (
            <Card withBorder key={link.peerId}>
              <Text fw={500} mb="xs">
                to {link.peerName} · {link.role} · {link.device} · port {link.localPort} → {link.remotePort}
              </Text>
              <ScrollArea.Autosize mah={320}>
                <Code block>{link.config}</Code>
              </ScrollArea.Autosize>
            </Card>
          ))}
        </Stack>
      )}
    </ListState>
  );
}

import { Anchor, Button, Group, Select, Table, Text } from "@mantine/core";
import { IconPlus } from "@tabler/icons-react";
import { useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useCan } from "../../auth/session.ts";
import { notifyDone } from "../../components/confirm.tsx";
import { FormModal } from "../../components/form-modal.tsx";
import { ListState } from "../../components/list-state.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { AgentBadge, RevisionText } from "../agents/agent-badge.tsx";
import { useAgentStatuses } from "../agents/queries.ts";
import { indexById, useNetworks } from "../networks/queries.ts";
import { useSessions } from "../sessions/queries.ts";
import { JoinButton } from "./enrollment-command.tsx";
import { useSwitches } from "./queries.ts";
import { SwitchForm } from "./switch-form.tsx";

export function SwitchesPage() {
  const [params, setParams] = useSearchParams();
  const networkId = params.get("network") ?? undefined;
  const switches = useSwitches();
  const networks = useNetworks();
  const sessions = useSessions();
  const isAdmin = useCan("admin");
  const [creating, setCreating] = useState(false);

  const networkById = indexById(networks.data);
  const shown = useMemo(
    () => (switches.data ?? []).filter((s) => !networkId || s.networkId === networkId),
    [switches.data, networkId],
  );
  const statuses = useAgentStatuses(shown.map((s) => s.id));
  const hostsOn = useMemo(() => {
    const counts = new Map<string, number>();
    for (const session of sessions.data ?? []) counts.set(session.switchId, (counts.get(session.switchId) ?? 0) + 1);
    return counts;
  }, [sessions.data]);

  const create = (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
      New switch
    </Button>
  );

  return (
    <>
      <PageHeader
        title="Switches"
        description="The OpenVPN servers of each network and the agents that keep them in line."
        actions={isAdmin && create}
      />
      <Group mb="md">
        <Select
          label="Network"
          placeholder="All networks"
          clearable
          w={260}
          data={(networks.data ?? []).map((n) => ({ value: n.id, label: n.name }))}
          value={networkId ?? null}
          onChange={(value) => setParams(value ? { network: value } : {})}
        />
      </Group>
      <ListState query={{ ...switches, data: switches.data && shown }} what="switches" empty={isAdmin && create}>
        {(data) => (
          <Table striped highlightOnHover verticalSpacing="sm" data-testid="switches-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Network</Table.Th>
                <Table.Th>Endpoint</Table.Th>
                <Table.Th>Data address</Table.Th>
                <Table.Th>Backbone</Table.Th>
                <Table.Th>Agent</Table.Th>
                <Table.Th>Version</Table.Th>
                <Table.Th>Revision applied</Table.Th>
                <Table.Th>Hosts online</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.map((sw) => {
                const status = statuses.get(sw.id);
                return (
                  <Table.Tr key={sw.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/switches/${sw.id}`} fw={500} style={{ whiteSpace: "nowrap" }}>
                        {sw.name}
                      </Anchor>
                      {!sw.enabled && (
                        <Text span size="xs" c="dimmed" ml={6}>
                          disabled
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{networkById.get(sw.networkId)?.name ?? "—"}</Table.Td>
                    <Table.Td ff="monospace">
                      {sw.endpointHost}:{sw.endpointPort}
                    </Table.Td>
                    <Table.Td ff="monospace">{sw.dataAddress}</Table.Td>
                    <Table.Td ff="monospace">{sw.backboneAddress}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>
                      <AgentBadge status={status} />
                      {status?.enrolled === false && (
                        <Text span size="xs" c="dimmed" data-testid={`join-${sw.name}`}>
                          {" — "}
                          {isAdmin ? <JoinButton switchId={sw.id} switchName={sw.name} /> : "an admin joins it"}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{status?.agentVersion ?? "—"}</Table.Td>
                    <Table.Td>
                      <RevisionText status={status} />
                    </Table.Td>
                    <Table.Td data-testid={`switch-hosts-${sw.name}`}>{hostsOn.get(sw.id) ?? 0}</Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </ListState>
      <FormModal opened={creating} onClose={() => setCreating(false)} title="New switch" size="xl">
        <SwitchForm
          {...(networkId ? { networkId } : {})}
          onDone={(saved) => {
            setCreating(false);
            notifyDone(`Switch ${saved.name} created`);
          }}
        />
      </FormModal>
    </>
  );
}

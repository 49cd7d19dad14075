import { ActionIcon, Anchor, Button, Menu, Table, Text } from "@mantine/core";
import type { Network } from "@switchboard/shared";
import { IconDots, IconDownload, IconPencil, IconPlus, IconTrash } from "@tabler/icons-react";
import { useState } from "react";
import { Link } from "react-router";
import { useCan } from "../../auth/session.ts";
import { confirmDanger, notifyDone } from "../../components/confirm.tsx";
import { FormModal } from "../../components/form-modal.tsx";
import { formatDate } from "../../components/format.ts";
import { ListState } from "../../components/list-state.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { useSwitches } from "../switches/queries.ts";
import { NetworkForm } from "./network-form.tsx";
import { useDeleteNetwork, useNetworks } from "./queries.ts";

export function NetworksPage() {
  const networks = useNetworks();
  const switches = useSwitches();
  const isAdmin = useCan("admin");
  const remove = useDeleteNetwork();
  const [editing, setEditing] = useState<Network | "new">();

  const switchCount = (id: string) => switches.data?.filter((s) => s.networkId === id).length ?? 0;
  const create = (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing("new")}>
      New network
    </Button>
  );

  return (
    <>
      <PageHeader
        title="Networks"
        description="Each network is one virtual LAN: a data subnet shared by its switches, and a backbone between them."
        actions={isAdmin && create}
      />
      <ListState query={networks} what="networks" empty={isAdmin && create}>
        {(data) => (
          <Table striped highlightOnHover verticalSpacing="sm" data-testid="networks-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Data subnet</Table.Th>
                <Table.Th>Backbone</Table.Th>
                <Table.Th>Transport</Table.Th>
                <Table.Th>Switches</Table.Th>
                <Table.Th>Revision</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th w={60}>
                  <span className="visually-hidden">Actions</span>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.map((network) => (
                <Table.Tr key={network.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/networks/${network.id}`} fw={500}>
                      {network.name}
                    </Anchor>
                    {network.description && (
                      <Text size="xs" c="dimmed" lineClamp={1}>
                        {network.description}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td ff="monospace">{network.dataSubnet}</Table.Td>
                  <Table.Td ff="monospace">{network.backboneSubnet}</Table.Td>
                  <Table.Td>
                    {network.proto.toUpperCase()} {network.port}
                  </Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/switches?network=${network.id}`}>
                      {switchCount(network.id)}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{network.revision}</Table.Td>
                  <Table.Td>{formatDate(network.createdAt)}</Table.Td>
                  <Table.Td>
                    <Menu position="bottom-end">
                      <Menu.Target>
                        <ActionIcon variant="subtle" aria-label={`Actions for ${network.name}`}>
                          <IconDots size={16} />
                        </ActionIcon>
                      </Menu.Target>
                      <Menu.Dropdown>
                        {isAdmin && (
                          <Menu.Item leftSection={<IconPencil size={14} />} onClick={() => setEditing(network)}>
                            Edit
                          </Menu.Item>
                        )}
                        <Menu.Item
                          component="a"
                          href={`/api/networks/${network.id}/crl`}
                          download={`${network.name}-crl.pem`}
                          leftSection={<IconDownload size={14} />}
                        >
                          Download CRL
                        </Menu.Item>
                        {isAdmin && (
                          <Menu.Item
                            color="red"
                            leftSection={<IconTrash size={14} />}
                            onClick={() =>
                              confirmDanger({
                                title: `Delete network ${network.name}?`,
                                message: `Its switches and hosts are removed and every certificate it issued stops working. This cannot be undone.`,
                                confirmLabel: "Delete network",
                                onConfirm: () => remove.mutateAsync(network.id),
                                done: `Network ${network.name} deleted`,
                              })
                            }
                          >
                            Delete
                          </Menu.Item>
                        )}
                      </Menu.Dropdown>
                    </Menu>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </ListState>
      <FormModal
        opened={editing !== undefined}
        onClose={() => setEditing(undefined)}
        title={editing === "new" ? "New network" : `Edit ${editing?.name ?? ""}`}
        size="xl"
      >
        <NetworkForm
          {...(editing === "new" ? {} : { network: editing })}
          onDone={(saved) => {
            setEditing(undefined);
            notifyDone(`Network ${saved.name} saved`);
          }}
        />
      </FormModal>
    </>
  );
}

import { Badge, Button, Card, Group, Table, Text, Title } from "@mantine/core";
import type { Network } from "@switchboard/shared";
import { IconDownload, IconKey } from "@tabler/icons-react";
import { useState } from "react";
import { useCan } from "../../auth/session.ts";
import { notifyDone } from "../../components/confirm.tsx";
import { ConfirmActionModal } from "../../components/confirm-action.tsx";
import { formatDate, formatDateTime, formatRelative } from "../../components/format.ts";
import { ListState } from "../../components/list-state.tsx";
import { useNetworkPki, useRotateTlsCrypt } from "./queries.ts";

/** The network's CA, CRL and tls-crypt key: what hosts and switches trust, and the two things an admin does with it. */
export function NetworkPkiCard({ network }: { network: Network }) {
  const pki = useNetworkPki(network.id);
  const isAdmin = useCan("admin");
  const rotate = useRotateTlsCrypt();
  const [confirming, setConfirming] = useState(false);

  return (
    <Card withBorder data-testid="network-pki">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Title order={4}>PKI</Title>
        <Group gap="xs">
          <Button
            component="a"
            href={`/api/networks/${network.id}/crl`}
            download={`${network.name}-crl.pem`}
            variant="default"
            size="xs"
            leftSection={<IconDownload size={14} />}
            data-testid="download-crl"
          >
            Download CRL
          </Button>
          {isAdmin && (
            <Button
              variant="light"
              color="red"
              size="xs"
              leftSection={<IconKey size={14} />}
              onClick={() => setConfirming(true)}
            >
              Rotate tls-crypt key
            </Button>
          )}
        </Group>
      </Group>
      <ListState query={pki} what="the PKI summary">
        {(data) => (
          <Table variant="vertical" layout="fixed" withRowBorders={false} verticalSpacing={4} fz="sm">
            <Table.Tbody>
              <Table.Tr>
                <Table.Th w={150}>Certificate authority</Table.Th>
                <Table.Td data-testid="pki-ca">
                  {data.ca.commonName}{" "}
                  <Text span size="xs" c="dimmed" ff="monospace">
                    {data.ca.serial.slice(0, 16)}
                  </Text>
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>CA valid until</Table.Th>
                <Table.Td>
                  {formatDate(data.ca.notAfter)}{" "}
                  <Text span size="xs" c="dimmed">
                    ({formatRelative(data.ca.notAfter)})
                  </Text>
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>CRL</Table.Th>
                <Table.Td data-testid="pki-crl">
                  number {data.crl.number}, next update {formatDateTime(data.crl.nextUpdate)}
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>tls-crypt key</Table.Th>
                <Table.Td data-testid="pki-tls-crypt">
                  {data.tlsCryptKey.present ? (
                    <Badge color="green" variant="light">
                      present
                    </Badge>
                  ) : (
                    <Badge color="orange" variant="light">
                      none yet
                    </Badge>
                  )}
                </Table.Td>
              </Table.Tr>
            </Table.Tbody>
          </Table>
        )}
      </ListState>
      <ConfirmActionModal
        opened={confirming}
        onClose={() => setConfirming(false)}
        title={`Rotate the tls-crypt key of ${network.name}?`}
        confirmLabel="Rotate key"
        onConfirm={async () => {
          await rotate.mutateAsync(network.id);
          notifyDone(`New tls-crypt key for ${network.name}: download every host's profile again`);
        }}
      >
        <Text size="sm">
          A new key replaces the current one and the switches change over with the network's next revision.
        </Text>
        <Text size="sm" fw={500}>
          Every host profile must be downloaded again: a host still holding the old key can no longer connect.
        </Text>
      </ConfirmActionModal>
    </Card>
  );
}

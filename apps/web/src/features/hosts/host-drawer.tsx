import { Alert, Badge, Button, Card, Checkbox, Divider, Drawer, Group, Stack, Table, Text } from "@mantine/core";
import { modals } from "@mantine/modals";
import type { Host, Switch } from "@switchboard/shared";
import { IconCertificate, IconDownload, IconPencil, IconPlugConnectedX, IconRefresh } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useCan } from "../../auth/session.ts";
import { confirmDanger, notifyDone, notifyError } from "../../components/confirm.tsx";
import { DeleteButton } from "../../components/delete-button.tsx";
import { formatDate, formatDateTime, formatRelative } from "../../components/format.ts";
import { profileBlockedBecause } from "../certificates/certificate-rules.ts";
import { certificateKeys, useHostCertificates } from "../certificates/queries.ts";
import { RevokeButton } from "../certificates/revoke-button.tsx";
import { sessionsByHost, useKillSession, useSessions } from "../sessions/queries.ts";
import { HostForm } from "./host-form.tsx";
import { useDeleteHost, useRotateCertificate } from "./queries.ts";

export function HostDrawer({
  host,
  switches,
  onClose,
}: {
  host: Host | undefined;
  switches: ReadonlyMap<string, Switch>;
  onClose: () => void;
}) {
  return (
    <Drawer opened={host !== undefined} onClose={onClose} position="right" size="lg" title={host?.commonName}>
      {host && <HostDetails key={host.id} host={host} switches={switches} onClose={onClose} />}
    </Drawer>
  );
}

function HostDetails({
  host,
  switches,
  onClose,
}: {
  host: Host;
  switches: ReadonlyMap<string, Switch>;
  onClose: () => void;
}) {
  const canOperate = useCan("operate");
  const [editing, setEditing] = useState(false);
  const session = sessionsByHost(useSessions().data).get(host.id);
  const certificates = useHostCertificates(host.id);
  const hasActive = certificates.data?.some((cert) => !cert.revokedAt) ?? false;
  const wasRevoked = !hasActive && (certificates.data?.length ?? 0) > 0;
  const profileBlocked = profileBlockedBecause(host, certificates.data);
  const client = useQueryClient();
  const rotate = useRotateCertificate();
  const kill = useKillSession();
  const remove = useDeleteHost();

  if (editing) {
    return (
      <HostForm
        host={host}
        onDone={(saved) => {
          setEditing(false);
          notifyDone(`Host ${saved.commonName} saved`);
        }}
      />
    );
  }

  const killSession = () => {
    let nextRemote = false;
    modals.openConfirmModal({
      title: `Disconnect ${host.commonName}?`,
      children: (
        <Stack gap="sm">
          <Text size="sm">The switch ends the host's session; the host reconnects on its own.</Text>
          <Checkbox
            label="Send it to its next switch"
            onChange={(event) => {
              nextRemote = event.currentTarget.checked;
            }}
          />
        </Stack>
      ),
      labels: { confirm: "Kill session", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () =>
        kill.mutate(
          { hostId: host.id, body: { nextRemote } },
          {
            onSuccess: (result) =>
              result.ok === false
                ? notifyError("The switch refused", new Error(result.message ?? "no reason given"))
                : notifyDone(result.ok ? "Session killed" : "Sent; the agent has not answered yet"),
            onError: (error) => notifyError("Kill session failed", error),
          },
        ),
    });
  };

  return (
    <Stack>
      <Card withBorder>
        <Stack gap={6}>
          <Group justify="space-between">
            <Text ff="monospace" fw={500}>
              {host.address}
            </Text>
            {session ? (
              <Badge color="green" variant="light" data-testid="host-online">
                online on {switches.get(session.switchId)?.name ?? "a switch"}
              </Badge>
            ) : (
              <Badge color="gray" variant="light" data-testid="host-online">
                offline
              </Badge>
            )}
          </Group>
          {session && (
            <Text size="sm" c="dimmed">
              from {session.realAddress}, connected {formatRelative(session.connectedAt)}
            </Text>
          )}
          {host.description && <Text size="sm">{host.description}</Text>}
          <Group gap={4}>
            {host.tags.map((tag) => (
              <Badge key={tag} variant="outline" size="sm">
                {tag}
              </Badge>
            ))}
          </Group>
          {host.subnets.length > 0 && <Text size="sm">Subnets behind it: {host.subnets.join(", ")}</Text>}
          {host.pushRoutes.length > 0 && <Text size="sm">Pushed routes: {host.pushRoutes.join(", ")}</Text>}
          {!host.enabled && (
            <Alert color="orange" p="xs">
              Disabled: it has no client-config file and cannot connect.
            </Alert>
          )}
          <Text size="xs" c="dimmed">
            Created {formatDateTime(host.createdAt)}
          </Text>
        </Stack>
      </Card>

      <Group gap="sm">
        {canOperate && profileBlocked && (
          <Button disabled leftSection={<IconDownload size={16} />} data-testid="download-profile">
            Download profile
          </Button>
        )}
        {canOperate && !profileBlocked && (
          <Button
            component="a"
            href={`/api/hosts/${host.id}/profile`}
            download
            leftSection={<IconDownload size={16} />}
            data-testid="download-profile"
            // The first download issues the certificate: show it once the server has answered.
            onClick={() =>
              setTimeout(() => void client.invalidateQueries({ queryKey: certificateKeys.ofHost(host.id) }), 1500)
            }
          >
            Download profile
          </Button>
        )}
        {canOperate && (
          <Button variant="default" leftSection={<IconPencil size={16} />} onClick={() => setEditing(true)}>
            Edit
          </Button>
        )}
        {canOperate && session && (
          <Button variant="default" color="red" leftSection={<IconPlugConnectedX size={16} />} onClick={killSession}>
            Kill session
          </Button>
        )}
      </Group>

      {canOperate && profileBlocked && (
        <Text size="sm" c="dimmed" data-testid="profile-blocked">
          {profileBlocked}
        </Text>
      )}

      <Divider label="Certificates" labelPosition="left" />
      {certificates.isPending && <Text c="dimmed">Loading certificates…</Text>}
      {certificates.isError && <Alert color="red">Could not load the certificates.</Alert>}
      {certificates.data && certificates.data.length === 0 && <Text c="dimmed">No certificate yet.</Text>}
      {certificates.data && certificates.data.length > 0 && (
        <Table verticalSpacing="xs" fz="sm" data-testid="host-certificates">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Serial</Table.Th>
              <Table.Th>Valid until</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {certificates.data.map((cert) => (
              <Table.Tr key={cert.id}>
                <Table.Td ff="monospace">{cert.serial.slice(0, 12)}…</Table.Td>
                <Table.Td>{formatDate(cert.notAfter)}</Table.Td>
                <Table.Td>
                  {cert.revokedAt ? (
                    <Badge color="red" variant="light">
                      revoked
                    </Badge>
                  ) : (
                    <Badge color="green" variant="light">
                      active
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td>{canOperate && !cert.revokedAt && <RevokeButton certificate={cert} />}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {canOperate && (
        <Group>
          {hasActive ? (
            <Button
              variant="default"
              leftSection={<IconRefresh size={16} />}
              loading={rotate.isPending}
              onClick={() =>
                confirmDanger({
                  title: `Rotate the certificate of ${host.commonName}?`,
                  message:
                    "A new certificate and key are issued; the old one is revoked, so the host needs its new profile.",
                  confirmLabel: "Rotate certificate",
                  onConfirm: () => rotate.mutateAsync(host.id),
                  done: "New certificate issued: download the profile again",
                })
              }
            >
              Rotate certificate
            </Button>
          ) : (
            <Button
              variant="default"
              leftSection={<IconCertificate size={16} />}
              loading={rotate.isPending}
              onClick={() =>
                wasRevoked
                  ? // After a revocation this is the one way back in: never without saying so.
                    confirmDanger({
                      title: `Issue a new certificate for ${host.commonName}?`,
                      message:
                        "Its certificate was revoked. A new certificate and key let this host connect again once its new profile is downloaded.",
                      confirmLabel: "Issue new certificate",
                      onConfirm: () => rotate.mutateAsync(host.id),
                      done: "New certificate issued: download the profile again",
                    })
                  : rotate.mutate(host.id, {
                      onSuccess: () => notifyDone("Certificate issued"),
                      onError: (error) => notifyError("Could not issue a certificate", error),
                    })
              }
            >
              {wasRevoked ? "Issue new certificate" : "Issue certificate"}
            </Button>
          )}
          <DeleteButton
            title={`Delete host ${host.commonName}?`}
            message="Its certificate is revoked and its address freed. This cannot be undone."
            confirmLabel="Delete host"
            onConfirm={async () => {
              await remove.mutateAsync(host.id);
              onClose();
            }}
            done={`Host ${host.commonName} deleted`}
          >
            Delete host
          </DeleteButton>
        </Group>
      )}
    </Stack>
  );
}

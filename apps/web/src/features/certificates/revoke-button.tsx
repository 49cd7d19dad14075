import { Button, Select, Stack, Text } from "@mantine/core";
import { modals } from "@mantine/modals";
import type { Certificate, RevocationReason } from "@switchboard/shared";
import { notifyDone, notifyError } from "../../components/confirm.tsx";
import { REVOCATION_REASONS, useRevokeCertificate } from "./queries.ts";

/** Revoke with a reason, after a confirmation that says what it does. */
export function RevokeButton({ certificate }: { certificate: Certificate }) {
  const revoke = useRevokeCertificate();
  const open = () => {
    let reason: RevocationReason = "unspecified";
    modals.openConfirmModal({
      title: `Revoke the certificate of ${certificate.commonName}?`,
      children: (
        <Stack gap="sm">
          <Text size="sm">
            The CRL is republished and the switches refuse this certificate from now on; a connected host is
            disconnected.
          </Text>
          <Select
            label="Reason"
            data={REVOCATION_REASONS}
            defaultValue="unspecified"
            allowDeselect={false}
            comboboxProps={{ withinPortal: false }}
            onChange={(value) => {
              reason = (value as RevocationReason | null) ?? "unspecified";
            }}
          />
        </Stack>
      ),
      labels: { confirm: "Revoke", cancel: "Cancel" },
      confirmProps: { color: "red" },
      onConfirm: () =>
        revoke.mutate(
          { id: certificate.id, reason },
          {
            onSuccess: () => notifyDone(`Certificate of ${certificate.commonName} revoked`),
            onError: (error) => notifyError("Revoke failed", error),
          },
        ),
    });
  };
  return (
    <Button size="xs" color="red" variant="light" onClick={open} loading={revoke.isPending}>
      Revoke
    </Button>
  );
}

import { Button, Text } from "@mantine/core";
import type { Switch } from "@switchboard/shared";
import { IconCertificate } from "@tabler/icons-react";
import { useState } from "react";
import { notifyDone } from "../../components/confirm.tsx";
import { ConfirmActionModal } from "../../components/confirm-action.tsx";
import { useReissueSwitchCertificates } from "../certificates/queries.ts";

/**
 * For a switch whose key was lost or compromised, or whose certificates were revoked (it then gets
 * no desired state): new keys and certificates, the old ones revoked, after a confirmation.
 */
export function ReissueCertificatesButton({ sw }: { sw: Switch }) {
  const [opened, setOpened] = useState(false);
  const reissue = useReissueSwitchCertificates();
  return (
    <>
      <Button
        variant="default"
        color="red"
        leftSection={<IconCertificate size={16} />}
        onClick={() => setOpened(true)}
        data-testid="reissue-certificates"
      >
        Re-issue certificates
      </Button>
      <ConfirmActionModal
        opened={opened}
        onClose={() => setOpened(false)}
        title={`Re-issue the certificates of ${sw.name}?`}
        confirmLabel="Re-issue certificates"
        onConfirm={async () => {
          await reissue.mutateAsync(sw.id);
          notifyDone(`New certificates for ${sw.name}: its agent receives them with the next revision`);
        }}
      >
        <Text size="sm">
          New keys and certificates are issued for the server and its backbone links. The ones in force are revoked (key
          compromise) and the CRL is republished, so whoever holds the old key cannot pose as this switch. Its agent
          reloads OpenVPN with the new files; connected hosts reconnect.
        </Text>
      </ConfirmActionModal>
    </>
  );
}

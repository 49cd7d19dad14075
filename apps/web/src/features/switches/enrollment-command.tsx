import { Button, Modal } from "@mantine/core";
import type { EnrollmentToken } from "@switchboard/shared";
import { IconPlugConnected } from "@tabler/icons-react";
import { useState } from "react";
import { notifyError } from "../../components/confirm.tsx";
import { formatDateTime } from "../../components/format.ts";
import { SecretOnce } from "../../components/secret-once.tsx";
import { useCreateEnrollment } from "./queries.ts";

/**
 * The command the API built for this enrollment, shown once: everything filled in (the API's
 * address, the token and, when the API serves its own self-signed certificate, its fingerprint),
 * then the service started, so it can be pasted on the switch as it is.
 */
export function EnrollmentCommand({ enrollment }: { enrollment: EnrollmentToken }) {
  const pin = enrollment.fingerprint256
    ? `--fingerprint pins this API's certificate (SHA-256 ${enrollment.fingerprint256}).`
    : "The API has no certificate of its own here (TLS is done in front of it, or none): no pin needed.";
  return (
    <SecretOnce
      label="Enroll command"
      value={enrollment.command}
      hint={`Run it on the switch as root: it enrolls the agent, then starts it. The token in it works once, until ${formatDateTime(enrollment.expiresAt)}. ${pin}`}
    />
  );
}

/** "join" beside a switch that was never enrolled: makes a token and shows its command in a dialog. */
export function JoinButton({ switchId, switchName }: { switchId: string; switchName: string }) {
  const create = useCreateEnrollment();
  const [enrollment, setEnrollment] = useState<EnrollmentToken>();
  return (
    <>
      <Button
        size="compact-xs"
        variant="light"
        leftSection={<IconPlugConnected size={14} />}
        loading={create.isPending}
        aria-label={`Join ${switchName}: enroll its agent`}
        onClick={() =>
          create.mutate(switchId, {
            onSuccess: setEnrollment,
            onError: (error) => notifyError("Could not create an enrollment token", error),
          })
        }
      >
        join
      </Button>
      <Modal
        opened={enrollment !== undefined}
        onClose={() => setEnrollment(undefined)}
        title={`Join ${switchName}`}
        size="xl"
      >
        {enrollment && <EnrollmentCommand enrollment={enrollment} />}
      </Modal>
    </>
  );
}

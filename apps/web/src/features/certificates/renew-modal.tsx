import { Alert, Button, Group, Modal, NumberInput, Stack, Text, Textarea } from "@mantine/core";
import { useForm } from "@mantine/form";
import type { Certificate, IssueBody } from "@switchboard/shared";
import { notifyDone } from "../../components/confirm.tsx";
import { optional, useApiErrors } from "../../components/form-fields.ts";
import { formatDate } from "../../components/format.ts";
import { takesCsr } from "./certificate-rules.ts";
import { useRenewCertificate } from "./queries.ts";

interface Values {
  validityDays: number | string;
  csr: string;
}

/**
 * Renew after confirming: a fresh certificate for the same holder, the old one revoked as
 * superseded. The API checks the fields (validity, CSR) and its messages show at them.
 */
export function RenewCertificateModal({
  certificate,
  onClose,
}: {
  certificate: Certificate | undefined;
  onClose: () => void;
}) {
  return (
    <Modal
      opened={certificate !== undefined}
      onClose={onClose}
      title={certificate ? `Renew the certificate of ${certificate.commonName}?` : ""}
    >
      {certificate && <RenewForm key={certificate.id} certificate={certificate} onDone={onClose} />}
    </Modal>
  );
}

function RenewForm({ certificate, onDone }: { certificate: Certificate; onDone: () => void }) {
  const renew = useRenewCertificate();
  const form = useForm<Values>({ initialValues: { validityDays: "", csr: "" } });
  const errors = useApiErrors(form, ["validityDays", "csr"]);

  const submit = (values: Values) => {
    errors.clear();
    const body: IssueBody = {};
    if (values.validityDays !== "") body.validityDays = Number(values.validityDays);
    const csr = optional(values.csr);
    if (csr) body.csr = csr;
    renew.mutate(
      { id: certificate.id, body },
      {
        onSuccess: (fresh) => {
          notifyDone(
            certificate.kind === "client"
              ? `New certificate for ${fresh.commonName}, valid until ${formatDate(fresh.notAfter)}: download its profile again`
              : `New certificate for ${fresh.commonName}, valid until ${formatDate(fresh.notAfter)}`,
          );
          onDone();
        },
        onError: errors.show,
      },
    );
  };

  return (
    <form onSubmit={form.onSubmit(submit)}>
      <Stack>
        <Text size="sm">
          A new certificate is issued for {certificate.commonName} and this one (serial{" "}
          <Text span ff="monospace">
            {certificate.serial.slice(0, 16)}
          </Text>
          , valid until {formatDate(certificate.notAfter)}) is revoked as superseded.
          {certificate.kind === "client"
            ? " The host needs its profile downloaded again."
            : " The switch's agent receives the new certificate and key and reloads OpenVPN."}
        </Text>
        <NumberInput
          label="Validity (days)"
          description="Leave empty for the network's default"
          min={1}
          allowDecimal={false}
          data-autofocus
          {...form.getInputProps("validityDays")}
        />
        {takesCsr(certificate) && (
          <Textarea
            label="Certificate signing request (PEM)"
            description="The holder keeps its own key, so it must send a new CSR"
            autosize
            minRows={4}
            ff="monospace"
            {...form.getInputProps("csr")}
          />
        )}
        {errors.general && (
          <Alert color="red" role="alert" title="Renew failed" data-testid="renew-error">
            {errors.general}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={renew.isPending}>
            Renew certificate
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

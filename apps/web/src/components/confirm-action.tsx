import { Alert, Button, Group, Modal, Stack } from "@mantine/core";
import { type ReactNode, useState } from "react";
import { errorMessage } from "../api/http.ts";

/**
 * A confirmation that stays open until the action has succeeded: while it runs the button
 * spins, and when the API refuses, its message is shown here, next to what was asked, rather
 * than in a notification that goes away.
 */
export function ConfirmActionModal({
  opened,
  onClose,
  title,
  children,
  confirmLabel,
  color = "red",
  onConfirm,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  color?: string;
  /** Resolves when done; a rejection keeps the dialog open with its message. */
  onConfirm: () => Promise<unknown>;
}) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string>();
  const close = () => {
    setError(undefined);
    onClose();
  };
  const confirm = async () => {
    setPending(true);
    setError(undefined);
    try {
      await onConfirm();
      close();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setPending(false);
    }
  };
  return (
    <Modal opened={opened} onClose={close} title={title}>
      <Stack>
        {children}
        {error && (
          <Alert color="red" role="alert" title={`${confirmLabel} failed`} data-testid="confirm-error">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close} data-autofocus>
            Cancel
          </Button>
          <Button color={color} loading={pending} onClick={() => void confirm()}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

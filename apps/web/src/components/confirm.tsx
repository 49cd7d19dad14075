import { Text } from "@mantine/core";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import type { ReactNode } from "react";
import { errorMessage } from "../api/http.ts";

/** Every destructive action goes through here: a modal that names what will happen, then the action. */
export function confirmDanger(options: {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  done?: string;
}) {
  modals.openConfirmModal({
    title: options.title,
    children: typeof options.message === "string" ? <Text size="sm">{options.message}</Text> : options.message,
    labels: { confirm: options.confirmLabel, cancel: "Cancel" },
    confirmProps: { color: "red" },
    onConfirm: () => {
      options.onConfirm().then(
        () => {
          if (options.done) notifications.show({ color: "green", message: options.done });
        },
        (error) =>
          notifications.show({ color: "red", title: `${options.confirmLabel} failed`, message: errorMessage(error) }),
      );
    },
  });
}

export function notifyError(title: string, error: unknown) {
  notifications.show({ color: "red", title, message: errorMessage(error) });
}

export function notifyDone(message: string) {
  notifications.show({ color: "green", message });
}

import { Text } from "@mantine/core";
import { modals } from "@mantine/modals";
import { notifications } from "@mantine/notifications";
import type { ReactNode } from "react";
import { errorMessage } from "../api/http.ts";

/** How long a notification stays: long enough to read, short enough not to sit over the page. */
export const NOTIFY_MS = 4000;
/** An error has more to read (the API's message); it still goes on its own. */
export const NOTIFY_ERROR_MS = 8000;

export interface DangerOptions {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  done?: string;
}

/** Every destructive action goes through here: a modal that names what will happen, then the action. */
export function confirmDanger(options: DangerOptions) {
  modals.openConfirmModal({
    title: options.title,
    children: typeof options.message === "string" ? <Text size="sm">{options.message}</Text> : options.message,
    labels: { confirm: options.confirmLabel, cancel: "Cancel" },
    confirmProps: { color: "red" },
    onConfirm: () => {
      options.onConfirm().then(
        () => {
          if (options.done) notifyDone(options.done);
        },
        (error) => notifyError(`${options.confirmLabel} failed`, error),
      );
    },
  });
}

export function notifyError(title: string, error: unknown) {
  notifications.show({ color: "red", title, message: errorMessage(error), autoClose: NOTIFY_ERROR_MS });
}

export function notifyDone(message: string) {
  notifications.show({ color: "green", message, autoClose: NOTIFY_MS });
}

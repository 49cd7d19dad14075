import { Alert, Button, Center, Group, Loader, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { errorMessage } from "../api/http.ts";

interface ListStateProps<T> {
  query: { isPending: boolean; isError: boolean; error: unknown; refetch: () => unknown; data: T | undefined };
  /** What the list holds, for the messages: "hosts", "switches"... */
  what: string;
  /** Default: a list (or text) with nothing in it. */
  isEmpty?: (data: T) => boolean;
  /** Shown when the list is empty (e.g. a button to create the first one). */
  empty?: ReactNode;
  /** Instead of "No {what} yet." when a filter, not the data, makes the list empty. */
  emptyText?: string;
  children: (data: T) => ReactNode;
}

const hasNothing = (data: unknown) => (Array.isArray(data) || typeof data === "string") && data.length === 0;

/** Loading, error (with a retry) and empty states around a list, so every list has all three. */
export function ListState<T>({ query, what, isEmpty = hasNothing, empty, emptyText, children }: ListStateProps<T>) {
  if (query.isPending) {
    return (
      <Center py="xl" role="status" aria-live="polite">
        <Group gap="sm">
          <Loader size="sm" />
          <Text c="dimmed">Loading {what}…</Text>
        </Group>
      </Center>
    );
  }
  if (query.isError) {
    return (
      <Alert color="red" title={`Could not load ${what}`} role="alert">
        <Stack gap="xs" align="flex-start">
          <Text size="sm">{errorMessage(query.error)}</Text>
          <Button size="xs" variant="light" color="red" onClick={() => void query.refetch()}>
            Try again
          </Button>
        </Stack>
      </Alert>
    );
  }
  const data = query.data as T;
  if (isEmpty(data)) {
    return (
      <Center py="xl" data-testid="empty-state">
        <Stack align="center" gap="xs">
          <Text c="dimmed">{emptyText ?? `No ${what} yet.`}</Text>
          {empty}
        </Stack>
      </Center>
    );
  }
  return <>{children(data)}</>;
}

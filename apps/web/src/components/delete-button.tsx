import { Button } from "@mantine/core";
import { IconTrash } from "@tabler/icons-react";
import type { ReactNode } from "react";
import { confirmDanger, type DangerOptions } from "./confirm.tsx";

/** The red delete button of a detail view: it asks first (see `confirmDanger`), then deletes. */
export function DeleteButton({ children, ...confirm }: DangerOptions & { children: ReactNode }) {
  return (
    <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={() => confirmDanger(confirm)}>
      {children}
    </Button>
  );
}

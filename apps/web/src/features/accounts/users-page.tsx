import { Alert, Badge, Button, Group, PasswordInput, Select, Stack, Table, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import type { Role, User } from "@switchboard/shared";
import { IconPlus } from "@tabler/icons-react";
import { useState } from "react";
import { ROLES } from "../../auth/roles.ts";
import { useCan, useLoginSession } from "../../auth/session.ts";
import { confirmDanger, notifyDone, notifyError } from "../../components/confirm.tsx";
import { useApiErrors } from "../../components/form-fields.ts";
import { FormFooter } from "../../components/form-footer.tsx";
import { FormModal } from "../../components/form-modal.tsx";
import { formatDate } from "../../components/format.ts";
import { ListState } from "../../components/list-state.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { useCreateUser, useDeleteUser, useUpdateUser, useUsers } from "./queries.ts";

export function UsersPage() {
  const isAdmin = useCan("admin");
  const me = useLoginSession().data?.user.id;
  const users = useUsers();
  const update = useUpdateUser();
  const remove = useDeleteUser();
  const [creating, setCreating] = useState(false);

  if (!isAdmin) return <Alert color="gray">Only administrators manage users.</Alert>;
  const create = (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
      New user
    </Button>
  );
  const setRole = (user: User, role: Role) =>
    update.mutate(
      { id: user.id, body: { role } },
      {
        onSuccess: () => notifyDone(`${user.username} is now ${role}`),
        onError: (e) => notifyError("Could not change the role", e),
      },
    );

  return (
    <>
      <PageHeader
        title="Users"
        description="People who sign in to the console, and what each may do."
        actions={create}
      />
      <ListState query={users} what="users" empty={create}>
        {(data) => (
          <Table striped verticalSpacing="sm" data-testid="users-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Username</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.map((user) => (
                <Table.Tr key={user.id}>
                  <Table.Td fw={500}>{user.username}</Table.Td>
                  <Table.Td>
                    <Select
                      aria-label={`Role of ${user.username}`}
                      data={ROLES}
                      value={user.role}
                      allowDeselect={false}
                      disabled={user.id === me}
                      w={140}
                      size="xs"
                      onChange={(role) => role && role !== user.role && setRole(user, role as Role)}
                    />
                  </Table.Td>
                  <Table.Td>{formatDate(user.createdAt)}</Table.Td>
                  <Table.Td>
                    {user.disabledAt ? (
                      <Badge color="gray">disabled</Badge>
                    ) : (
                      <Badge color="green" variant="light">
                        active
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {user.id !== me && (
                      <Group gap="xs" justify="flex-end">
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() =>
                            user.disabledAt
                              ? update.mutate({ id: user.id, body: { disabled: false } })
                              : confirmDanger({
                                  title: `Disable ${user.username}?`,
                                  message: "Their sessions end and they cannot sign in until enabled again.",
                                  confirmLabel: "Disable user",
                                  onConfirm: () => update.mutateAsync({ id: user.id, body: { disabled: true } }),
                                  done: `${user.username} disabled`,
                                })
                          }
                        >
                          {user.disabledAt ? "Enable" : "Disable"}
                        </Button>
                        <Button
                          size="xs"
                          color="red"
                          variant="light"
                          onClick={() =>
                            confirmDanger({
                              title: `Delete ${user.username}?`,
                              message: "The account and its sessions are removed. The audit log keeps their name.",
                              confirmLabel: "Delete user",
                              onConfirm: () => remove.mutateAsync(user.id),
                              done: `${user.username} deleted`,
                            })
                          }
                        >
                          Delete
                        </Button>
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </ListState>
      <FormModal opened={creating} onClose={() => setCreating(false)} title="New user">
        <UserForm onDone={() => setCreating(false)} />
      </FormModal>
    </>
  );
}

function UserForm({ onDone }: { onDone: () => void }) {
  const create = useCreateUser();
  const form = useForm({ initialValues: { username: "", password: "", role: "viewer" as Role } });
  const errors = useApiErrors(form, ["username", "password", "role"]);
  return (
    <form
      onSubmit={form.onSubmit((values) =>
        create.mutate(values, {
          onSuccess: (user) => {
            notifyDone(`User ${user.username} created`);
            onDone();
          },
          onError: errors.show,
        }),
      )}
    >
      <Stack>
        <TextInput label="Username" required autoComplete="off" {...form.getInputProps("username")} />
        <PasswordInput
          label="Password"
          description="12 to 256 characters"
          required
          autoComplete="new-password"
          {...form.getInputProps("password")}
        />
        <Select label="Role" data={ROLES} allowDeselect={false} {...form.getInputProps("role")} />
        <FormFooter error={errors.general} submitLabel="Create user" pending={create.isPending} />
      </Stack>
    </form>
  );
}

import { Alert, Badge, Button, NumberInput, Select, Stack, Table, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import type { ApiToken, ApiTokenCreated, Role } from "@switchboard/shared";
import { IconPlus } from "@tabler/icons-react";
import { useState } from "react";
import { ROLES } from "../../auth/roles.ts";
import { useCan } from "../../auth/session.ts";
import { confirmDanger } from "../../components/confirm.tsx";
import { useApiErrors } from "../../components/form-fields.ts";
import { FormFooter } from "../../components/form-footer.tsx";
import { FormModal } from "../../components/form-modal.tsx";
import { formatDate, formatRelative } from "../../components/format.ts";
import { ListState } from "../../components/list-state.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { SecretOnce } from "../../components/secret-once.tsx";
import { useCreateToken, useRevokeToken, useTokens } from "./queries.ts";

function tokenState(token: ApiToken): { label: string; color: string } {
  if (token.revokedAt) return { label: "revoked", color: "gray" };
  if (token.expiresAt && new Date(token.expiresAt).getTime() < Date.now()) return { label: "expired", color: "orange" };
  return { label: "active", color: "green" };
}

export function TokensPage() {
  const isAdmin = useCan("admin");
  const tokens = useTokens();
  const revoke = useRevokeToken();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiTokenCreated>();

  if (!isAdmin) return <Alert color="gray">Only administrators manage API tokens.</Alert>;
  const create = (
    <Button
      leftSection={<IconPlus size={16} />}
      onClick={() => {
        setCreated(undefined);
        setCreating(true);
      }}
    >
      New token
    </Button>
  );
  return (
    <>
      <PageHeader
        title="API tokens"
        description="For automation: send as Authorization: Bearer <token>. Each token has a role."
        actions={create}
      />
      {created && (
        <Stack mb="md">
          <SecretOnce
            label={`Token ${created.apiToken.name}`}
            value={created.token}
            hint="Store it now: it cannot be shown again."
          />
        </Stack>
      )}
      <ListState query={tokens} what="API tokens" empty={create}>
        {(data) => (
          <Table striped verticalSpacing="sm" data-testid="tokens-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Prefix</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.map((token) => {
                const state = tokenState(token);
                return (
                  <Table.Tr key={token.id}>
                    <Table.Td fw={500}>{token.name}</Table.Td>
                    <Table.Td ff="monospace">{token.prefix}…</Table.Td>
                    <Table.Td>{token.role}</Table.Td>
                    <Table.Td>{token.expiresAt ? formatDate(token.expiresAt) : "never"}</Table.Td>
                    <Table.Td>{formatRelative(token.lastUsedAt)}</Table.Td>
                    <Table.Td>
                      <Badge color={state.color} variant="light">
                        {state.label}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {!token.revokedAt && (
                        <Button
                          size="xs"
                          color="red"
                          variant="light"
                          onClick={() =>
                            confirmDanger({
                              title: `Revoke token ${token.name}?`,
                              message: "Anything using it is refused from now on.",
                              confirmLabel: "Revoke token",
                              onConfirm: () => revoke.mutateAsync(token.id),
                              done: `Token ${token.name} revoked`,
                            })
                          }
                        >
                          Revoke
                        </Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </ListState>
      <FormModal opened={creating} onClose={() => setCreating(false)} title="New API token">
        <TokenForm
          onDone={(result) => {
            setCreated(result);
            setCreating(false);
          }}
        />
      </FormModal>
    </>
  );
}

function TokenForm({ onDone }: { onDone: (created: ApiTokenCreated) => void }) {
  const create = useCreateToken();
  const form = useForm({
    initialValues: { name: "", role: "viewer" as Role, expiresInDays: 90 as number | string },
  });
  const errors = useApiErrors(form, ["name", "role", "expiresInDays"]);
  return (
    <form
      onSubmit={form.onSubmit((values) =>
        create.mutate(
          {
            name: values.name,
            role: values.role,
            expiresInDays: values.expiresInDays === "" ? null : Number(values.expiresInDays),
          },
          { onSuccess: onDone, onError: errors.show },
        ),
      )}
    >
      <Stack>
        <TextInput label="Name" description="What uses it, e.g. terraform" required {...form.getInputProps("name")} />
        <Select label="Role" data={ROLES} allowDeselect={false} {...form.getInputProps("role")} />
        <NumberInput
          label="Expires in (days)"
          description="Empty: never expires"
          min={1}
          max={3650}
          {...form.getInputProps("expiresInDays")}
        />
        <FormFooter error={errors.general} submitLabel="Create token" pending={create.isPending} />
      </Stack>
    </form>
  );
}

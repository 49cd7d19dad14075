import { Alert, Button, Paper, PasswordInput, Stack } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useChangePassword } from "../../auth/session.ts";
import { notifyDone } from "../../components/confirm.tsx";
import { showApiErrors } from "../../components/form-fields.ts";
import { PageHeader } from "../../components/page-header.tsx";

export function PasswordPage() {
  const change = useChangePassword();
  const [general, setGeneral] = useState<string>();
  const form = useForm({
    initialValues: { currentPassword: "", newPassword: "", repeat: "" },
    validate: { repeat: (value, values) => (value === values.newPassword ? null : "does not match the new password") },
  });
  return (
    <>
      <PageHeader title="Change password" description="Your other sessions end when the password changes." />
      <Paper withBorder p="lg" maw={440}>
        <form
          onSubmit={form.onSubmit(({ currentPassword, newPassword }) => {
            setGeneral(undefined);
            change.mutate(
              { currentPassword, newPassword },
              {
                onSuccess: () => {
                  form.reset();
                  notifyDone("Password changed");
                },
                onError: (error) => setGeneral(showApiErrors(form, error, ["currentPassword", "newPassword"])),
              },
            );
          })}
        >
          <Stack>
            <PasswordInput
              label="Current password"
              required
              autoComplete="current-password"
              {...form.getInputProps("currentPassword")}
            />
            <PasswordInput
              label="New password"
              description="12 to 256 characters"
              required
              autoComplete="new-password"
              {...form.getInputProps("newPassword")}
            />
            <PasswordInput
              label="Repeat the new password"
              required
              autoComplete="new-password"
              {...form.getInputProps("repeat")}
            />
            {general && (
              <Alert color="red" role="alert">
                {general}
              </Alert>
            )}
            <Button type="submit" loading={change.isPending}>
              Change password
            </Button>
          </Stack>
        </form>
      </Paper>
    </>
  );
}

import { Button, Paper, PasswordInput, Stack } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useChangePassword } from "../../auth/session.ts";
import { notifyDone } from "../../components/confirm.tsx";
import { useApiErrors } from "../../components/form-fields.ts";
import { FormError } from "../../components/form-footer.tsx";
import { PageHeader } from "../../components/page-header.tsx";

export function PasswordPage() {
  const change = useChangePassword();
  const form = useForm({
    initialValues: { currentPassword: "", newPassword: "", repeat: "" },
    validate: { repeat: (value, values) => (value === values.newPassword ? null : "does not match the new password") },
  });
  const errors = useApiErrors(form, ["currentPassword", "newPassword"]);
  return (
    <>
      <PageHeader title="Change password" description="Your other sessions end when the password changes." />
      <Paper withBorder p="lg" maw={440}>
        <form
          onSubmit={form.onSubmit(({ currentPassword, newPassword }) => {
            errors.clear();
            change.mutate(
              { currentPassword, newPassword },
              {
                onSuccess: () => {
                  form.reset();
                  notifyDone("Password changed");
                },
                onError: errors.show,
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
            <FormError message={errors.general} />
            <Button type="submit" loading={change.isPending}>
              Change password
            </Button>
          </Stack>
        </form>
      </Paper>
    </>
  );
}

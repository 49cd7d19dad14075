import { Alert, Button, Group } from "@mantine/core";

/** What the API said that no field of the form could show (see `useApiErrors`), above the buttons. */
export function FormError({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <Alert color="red" role="alert">
      {message}
    </Alert>
  );
}

/** The end of a dialog's form: the message no field could show, then the submit button on the right. */
export function FormFooter({
  error,
  submitLabel,
  pending,
}: {
  error: string | undefined;
  submitLabel: string;
  pending: boolean;
}) {
  return (
    <>
      <FormError message={error} />
      <Group justify="flex-end">
        <Button type="submit" loading={pending}>
          {submitLabel}
        </Button>
      </Group>
    </>
  );
}

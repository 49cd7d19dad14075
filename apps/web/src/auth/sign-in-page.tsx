import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { errorMessage } from "../api/http.ts";
import { useSetupState, useSignIn } from "./session.ts";

export function SignInPage() {
  const signIn = useSignIn();
  const setup = useSetupState();
  const form = useForm({ initialValues: { username: "", password: "" } });

  return (
    <Center mih="100vh" bg="gray.0" p="md">
      <Paper withBorder shadow="sm" p="xl" w={380} component="main">
        <form onSubmit={form.onSubmit((values) => signIn.mutate(values))}>
          <Stack>
            <div>
              <Title order={2}>Switchboard</Title>
              <Text c="dimmed" size="sm">
                Sign in to manage your networks.
              </Text>
            </div>
            {setup.data?.needed && (
              <Alert color="blue" title="No administrator yet">
                Open the one-time link that Switchboard printed when it started (…/setup#token=…).
              </Alert>
            )}
            <TextInput
              label="Username"
              autoComplete="username"
              required
              autoFocus
              {...form.getInputProps("username")}
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              required
              {...form.getInputProps("password")}
            />
            {signIn.isError && (
              <Alert color="red" role="alert">
                {errorMessage(signIn.error)}
              </Alert>
            )}
            <Button type="submit" loading={signIn.isPending}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

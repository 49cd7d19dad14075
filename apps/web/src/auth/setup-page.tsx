import { Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import type { LoginSession } from "@switchboard/shared";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";
import { useNavigate } from "react-router";
import { request, setCsrfToken } from "../api/http.ts";
import { useApiErrors } from "../components/form-fields.ts";
import { FormError } from "../components/form-footer.tsx";
import { sessionKeys } from "./session.ts";

/** The setup token in the URL fragment (#token=...), read again whenever the fragment changes. */
const tokenInHash = () => new URLSearchParams(window.location.hash.slice(1)).get("token") ?? "";

/** A person who opened /setup bare and then pastes the printed link's #token=... into the same tab. */
function onHashChange(notify: () => void): () => void {
  window.addEventListener("hashchange", notify);
  return () => window.removeEventListener("hashchange", notify);
}

/**
 * First start: the server prints /setup#token=...; the token stays in the URL fragment so it
 * never reaches a server log or a Referer header. Creates the first administrator.
 */
export function SetupPage() {
  const token = useSyncExternalStore(onHashChange, tokenInHash);
  const client = useQueryClient();
  const navigate = useNavigate();
  const form = useForm({ initialValues: { username: "admin", password: "" } });
  const errors = useApiErrors(form, ["username", "password"]);
  const setup = useMutation({
    mutationFn: (values: { username: string; password: string }) =>
      request<LoginSession>("POST", "/api/setup", { body: { token, ...values }, expectUnauthorized: true }),
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      client.setQueryData(sessionKeys.current, session);
      client.setQueryData(sessionKeys.setup, { needed: false });
      window.history.replaceState(null, "", "/");
      navigate("/", { replace: true });
    },
    onError: errors.show,
  });

  return (
    <Center mih="100vh" bg="gray.0" p="md">
      <Paper withBorder shadow="sm" p="xl" w={420} component="main">
        <Stack>
          <Title order={2}>Create the first administrator</Title>
          {!token ? (
            <Text>This page needs the one-time link that Switchboard printed when it started.</Text>
          ) : (
            <form
              onSubmit={form.onSubmit((values) => {
                errors.clear();
                setup.mutate(values);
              })}
            >
              <Stack>
                <TextInput label="Username" required autoComplete="username" {...form.getInputProps("username")} />
                <PasswordInput
                  label="Password"
                  description="At least 12 characters"
                  required
                  autoComplete="new-password"
                  {...form.getInputProps("password")}
                />
                <FormError message={errors.general} />
                <Button type="submit" loading={setup.isPending}>
                  Create administrator
                </Button>
              </Stack>
            </form>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}

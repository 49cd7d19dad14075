import { ActionIcon, Alert, Code, CopyButton, Group, Stack, Text, Tooltip } from "@mantine/core";
import { IconCheck, IconCopy } from "@tabler/icons-react";

/** A secret the API shows once (API token, enrollment token): copy it now. */
export function SecretOnce({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Alert color="yellow" title={`${label}: shown once`}>
      <Stack gap="xs">
        <Group gap="xs" wrap="nowrap">
          <Code data-testid="secret-value" style={{ wordBreak: "break-all" }}>
            {value}
          </Code>
          <CopyButton value={value}>
            {({ copied, copy }) => (
              <Tooltip label={copied ? "Copied" : "Copy"}>
                <ActionIcon variant="subtle" onClick={copy} aria-label={`Copy ${label}`}>
                  {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                </ActionIcon>
              </Tooltip>
            )}
          </CopyButton>
        </Group>
        {hint && <Text size="sm">{hint}</Text>}
      </Stack>
    </Alert>
  );
}

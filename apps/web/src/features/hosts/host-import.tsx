import { Alert, Button, FileInput, Group, Progress, ScrollArea, Select, Stack, Table, Text } from "@mantine/core";
import type { ErrorResponse, HostImportResult } from "@switchboard/shared";
import { IconFileTypeCsv } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useLoginSession } from "../../auth/session.ts";
import { certificateKeys } from "../certificates/queries.ts";
import { useNetworks } from "../networks/queries.ts";
import { countCsvRows, importProblems } from "./import-report.ts";
import { hostKeys, importHostsCsv } from "./queries.ts";

type Phase =
  | { kind: "idle" }
  | { kind: "uploading"; share: number; rows: number }
  | { kind: "processing"; rows: number }
  | { kind: "done"; created: number }
  | { kind: "failed"; message: string; errors: NonNullable<ErrorResponse["errors"]> };

/**
 * Bulk import: the CSV goes to the API as it is (all or nothing). Progress is the upload, then
 * the server's check-and-write; a refusal lists every bad row with its field and rule.
 */
export function HostImport({ onDone }: { onDone: (created: number) => void }) {
  const networks = useNetworks();
  const session = useLoginSession().data;
  const client = useQueryClient();
  const [networkId, setNetworkId] = useState<string | null>(
    networks.data?.length === 1 ? (networks.data[0]?.id ?? null) : null,
  );
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const busy = phase.kind === "uploading" || phase.kind === "processing";

  const run = async () => {
    if (!file || !networkId) return;
    const text = await file.text();
    const rows = countCsvRows(text);
    setPhase({ kind: "uploading", share: 0, rows });
    try {
      const answer = await importHostsCsv(networkId, text, session?.csrfToken, (share) =>
        setPhase(share < 1 ? { kind: "uploading", share, rows } : { kind: "processing", rows }),
      );
      if (answer.status === 201) {
        const created = (answer.body as HostImportResult).created;
        setPhase({ kind: "done", created });
        await Promise.all([
          client.invalidateQueries({ queryKey: hostKeys.all }),
          client.invalidateQueries({ queryKey: certificateKeys.all }),
        ]);
        onDone(created);
        return;
      }
      const body = answer.body as ErrorResponse | undefined;
      setPhase({
        kind: "failed",
        message: body?.message ?? `the import failed with HTTP ${answer.status}`,
        errors: body ? importProblems(body) : [],
      });
    } catch (error) {
      setPhase({ kind: "failed", message: (error as Error).message, errors: [] });
    }
  };

  return (
    <Stack>
      <Text size="sm" c="dimmed">
        A header row with <code>commonName</code> and optionally <code>address</code>, <code>description</code>,{" "}
        <code>tags</code>, <code>enabled</code>, <code>subnets</code>, <code>pushRoutes</code> (list cells separated by
        spaces or <code>;</code>). One bad row and nothing is imported.
      </Text>
      <Select
        label="Network"
        required
        allowDeselect={false}
        data={(networks.data ?? []).map((n) => ({ value: n.id, label: n.name }))}
        value={networkId}
        onChange={setNetworkId}
        disabled={busy}
      />
      <FileInput
        label="CSV file"
        required
        accept=".csv,text/csv"
        leftSection={<IconFileTypeCsv size={16} />}
        value={file}
        onChange={(value) => {
          setFile(value);
          setPhase({ kind: "idle" });
        }}
        disabled={busy}
        data-testid="import-file"
      />
      {phase.kind === "uploading" && (
        <Stack gap={4}>
          <Text size="sm">
            Uploading {phase.rows} rows… {Math.round(phase.share * 100)}%
          </Text>
          <Progress value={phase.share * 100} aria-label="Upload progress" />
        </Stack>
      )}
      {phase.kind === "processing" && (
        <Stack gap={4}>
          <Text size="sm">Checking and writing {phase.rows} hosts…</Text>
          <Progress value={100} animated striped aria-label="Import progress" />
        </Stack>
      )}
      {phase.kind === "done" && (
        <Alert color="green" role="status">
          Imported {phase.created} hosts.
        </Alert>
      )}
      {phase.kind === "failed" && (
        <Alert color="red" title="Nothing was imported" role="alert" data-testid="import-errors">
          <Stack gap="xs">
            <Text size="sm">{phase.errors.length > 0 ? `${phase.errors.length} problems:` : phase.message}</Text>
            {phase.errors.length > 0 && (
              <ScrollArea.Autosize mah={260}>
                <Table verticalSpacing={4} fz="sm">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Row</Table.Th>
                      <Table.Th>Field</Table.Th>
                      <Table.Th>Problem</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {phase.errors.map((problem) => (
                      <Table.Tr key={`${problem.row}-${problem.field}-${problem.message}`}>
                        {/* row is 0-based among data rows; line 1 is the header. */}
                        <Table.Td>
                          {problem.row === undefined ? "—" : `${problem.row + 1} (line ${problem.row + 2})`}
                        </Table.Td>
                        <Table.Td ff="monospace">{problem.field.replace(/^body\.hosts\.\d+\.?/, "") || "row"}</Table.Td>
                        <Table.Td>{problem.message}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </ScrollArea.Autosize>
            )}
          </Stack>
        </Alert>
      )}
      <Group justify="flex-end">
        <Button onClick={() => void run()} loading={busy} disabled={!file || !networkId}>
          Import
        </Button>
      </Group>
    </Stack>
  );
}

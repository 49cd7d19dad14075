import { Alert, Button, FileInput, Group, Progress, ScrollArea, Select, Stack, Table, Text } from "@mantine/core";
import type { ErrorResponse, HostImportResult } from "@switchboard/shared";
import { IconFileTypeCsv } from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useLoginSession } from "../../auth/session.ts";
import { plural } from "../../components/format.ts";
import { certificateKeys } from "../certificates/queries.ts";
import { useNetworks } from "../networks/queries.ts";
import { countCsvRows, importProblems, problemsByRow, rowName } from "./import-report.ts";
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
  const [chosenNetworkId, setNetworkId] = useState<string | null>(null);
  // The only network is the choice, also when the list arrives after the dialog opened.
  const networkId = chosenNetworkId ?? (networks.data?.length === 1 ? (networks.data[0]?.id ?? null) : null);
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
            Uploading {plural(phase.rows, "row")}… {Math.round(phase.share * 100)}%
          </Text>
          <Progress value={phase.share * 100} aria-label="Upload progress" />
        </Stack>
      )}
      {phase.kind === "processing" && (
        <Stack gap={4}>
          <Text size="sm">Checking and writing {plural(phase.rows, "host")}…</Text>
          <Progress value={100} animated striped aria-label="Import progress" />
        </Stack>
      )}
      {phase.kind === "done" && (
        <Alert color="green" role="status" title="Import done" data-testid="import-done">
          Imported {plural(phase.created, "host")}. To import more, choose another file.
        </Alert>
      )}
      {phase.kind === "failed" && <ImportErrors message={phase.message} errors={phase.errors} />}
      <Group justify="flex-end">
        {/* Once a file went in, importing it again would only be refused (or double it): a new file first. */}
        <Button onClick={() => void run()} loading={busy} disabled={!file || !networkId || phase.kind === "done"}>
          Import
        </Button>
      </Group>
    </Stack>
  );
}

/** Every bad row of the file, each named once with all its problems; nothing was imported. */
function ImportErrors({ message, errors }: { message: string; errors: NonNullable<ErrorResponse["errors"]> }) {
  const rows = problemsByRow(errors);
  return (
    <Alert color="red" title="Nothing was imported" role="alert" data-testid="import-errors">
      <Stack gap="xs">
        <Text size="sm">
          {errors.length > 0
            ? `${plural(errors.length, "problem")} in ${plural(rows.length, "row")}; fix them all and import the file again:`
            : message}
        </Text>
        {rows.length > 0 && (
          <ScrollArea.Autosize mah={260}>
            <Table verticalSpacing={4} fz="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Row</Table.Th>
                  <Table.Th>Problems</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((entry) => (
                  <Table.Tr key={entry.row ?? "file"} data-testid="import-error-row">
                    <Table.Td style={{ whiteSpace: "nowrap", verticalAlign: "top" }}>{rowName(entry.row)}</Table.Td>
                    <Table.Td>
                      {entry.problems.map((problem) => (
                        <Text size="sm" key={`${problem.field} ${problem.message}`}>
                          <Text span ff="monospace" size="sm">
                            {problem.field}
                          </Text>{" "}
                          {problem.message}
                        </Text>
                      ))}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea.Autosize>
        )}
      </Stack>
    </Alert>
  );
}

import { Code, Group, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useMemo, useState } from "react";
import { useCan } from "../../auth/session.ts";
import { formatDateTime } from "../../components/format.ts";
import { ListState } from "../../components/list-state.tsx";
import { LoadMore, useLoadedItems } from "../../components/load-more.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { type AuditFilter, useAuditPages } from "./queries.ts";

interface Inputs {
  action: string;
  targetType: string;
  actorName: string;
  from: string;
  to: string;
}

export function AuditPage() {
  const allowed = useCan("audit");
  const [inputs, setInputs] = useState<Inputs>({ action: "", targetType: "", actorName: "", from: "", to: "" });
  const [debounced] = useDebouncedValue(inputs, 300);
  const filter = useMemo<AuditFilter>(() => {
    const f: AuditFilter = {};
    if (debounced.action.trim()) f.action = debounced.action.trim();
    if (debounced.targetType.trim()) f.targetType = debounced.targetType.trim();
    if (debounced.actorName.trim()) f.actorName = debounced.actorName.trim();
    if (debounced.from) f.from = new Date(debounced.from).toISOString();
    if (debounced.to) f.to = new Date(debounced.to).toISOString();
    return f;
  }, [debounced]);
  const pages = useAuditPages(filter, { enabled: allowed });
  const items = useLoadedItems(pages);
  // The value is read now: React clears currentTarget once the handler returns, and the updater
  // runs later (reading it there threw and blanked the whole console).
  const set = (key: keyof Inputs) => (event: React.ChangeEvent<HTMLInputElement>) => {
    const value = event.currentTarget.value;
    setInputs((current) => ({ ...current, [key]: value }));
  };

  if (!allowed) return <Text>The audit log is for administrators and auditors.</Text>;
  return (
    <>
      <PageHeader title="Audit log" description="Every change, who made it, from where." />
      <Group mb="md" align="flex-end" gap="sm">
        <TextInput label="Action" placeholder="host.create" value={inputs.action} onChange={set("action")} w={160} />
        <TextInput
          label="Target type"
          placeholder="host"
          value={inputs.targetType}
          onChange={set("targetType")}
          w={140}
        />
        <TextInput label="Actor" placeholder="admin" value={inputs.actorName} onChange={set("actorName")} w={140} />
        <TextInput label="From" type="datetime-local" value={inputs.from} onChange={set("from")} w={210} />
        <TextInput label="To" type="datetime-local" value={inputs.to} onChange={set("to")} w={210} />
      </Group>
      <ListState query={{ ...pages, data: items }} what="audit events">
        {(data) => (
          <>
            <Table striped verticalSpacing="xs" fz="sm" data-testid="audit-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={190}>When</Table.Th>
                  <Table.Th>Actor</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Target</Table.Th>
                  <Table.Th>Summary</Table.Th>
                  <Table.Th>From</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data.map((event) => (
                  <Table.Tr key={event.id}>
                    <Table.Td>{formatDateTime(event.at)}</Table.Td>
                    <Table.Td>
                      {event.actorName}
                      <Text span size="xs" c="dimmed" ml={4}>
                        {event.actorType}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Code>{event.action}</Code>
                    </Table.Td>
                    <Table.Td>
                      {event.targetType}
                      {event.targetId && (
                        <Text span size="xs" c="dimmed" ml={4} ff="monospace">
                          {event.targetId.slice(0, 8)}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td maw={360}>
                      <Text size="xs" ff="monospace" lineClamp={2}>
                        {summaryText(event.summary)}
                      </Text>
                    </Table.Td>
                    <Table.Td ff="monospace">{event.sourceAddress ?? "—"}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            <LoadMore pages={pages} />
          </>
        )}
      </ListState>
    </>
  );
}

function summaryText(summary: unknown): string {
  if (summary === null || summary === undefined) return "";
  return typeof summary === "string" ? summary : JSON.stringify(summary);
}

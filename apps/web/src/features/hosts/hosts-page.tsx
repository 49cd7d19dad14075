import { Button, Group, Select, Text, TextInput } from "@mantine/core";
import { HOST_SEARCH_RULE } from "@switchboard/shared";
import { IconPlus, IconSearch, IconUpload } from "@tabler/icons-react";
import { useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { useCan } from "../../auth/session.ts";
import { notifyDone } from "../../components/confirm.tsx";
import { FormModal } from "../../components/form-modal.tsx";
import { plural } from "../../components/format.ts";
import { LabelledSegmentedControl } from "../../components/labelled-segmented-control.tsx";
import { ListState } from "../../components/list-state.tsx";
import { PageHeader } from "../../components/page-header.tsx";
import { indexById, useNetworks } from "../networks/queries.ts";
import { sessionsByHost, useSessions } from "../sessions/queries.ts";
import { useSwitches } from "../switches/queries.ts";
import { HostDrawer } from "./host-drawer.tsx";
import { HostForm } from "./host-form.tsx";
import { HostImport } from "./host-import.tsx";
import { allTags, buildHostRows, EMPTY_FILTER, filterHostRows, type HostFilter } from "./host-rows.ts";
import { HostsTable } from "./hosts-table.tsx";
import { useHosts } from "./queries.ts";

export function HostsPage() {
  const hosts = useHosts();
  const sessions = useSessions();
  const networks = useNetworks();
  const switches = useSwitches();
  const canOperate = useCan("operate");
  const [params, setParams] = useSearchParams();
  const [filter, setFilter] = useState<HostFilter>(EMPTY_FILTER);
  const [dialog, setDialog] = useState<"create" | "import">();

  const networkById = useMemo(() => indexById(networks.data), [networks.data]);
  const switchById = useMemo(() => indexById(switches.data), [switches.data]);
  const rows = useMemo(
    () => buildHostRows(hosts.data ?? [], sessionsByHost(sessions.data), networkById, switchById),
    [hosts.data, sessions.data, networkById, switchById],
  );
  const shown = useMemo(() => filterHostRows(rows, filter), [rows, filter]);
  const tags = useMemo(() => allTags(hosts.data ?? []), [hosts.data]);
  const onlineCount = sessions.data?.length ?? 0;

  const openHostId = params.get("host");
  const openHost = openHostId ? hosts.data?.find((h) => h.id === openHostId) : undefined;
  const set = (patch: Partial<HostFilter>) => setFilter((current) => ({ ...current, ...patch }));

  return (
    <>
      <PageHeader
        title="Hosts"
        description={hosts.data ? `${plural(hosts.data.length, "host")}, ${onlineCount} online` : undefined}
        actions={
          canOperate && (
            <>
              <Button variant="default" leftSection={<IconUpload size={16} />} onClick={() => setDialog("import")}>
                Import CSV
              </Button>
              <Button leftSection={<IconPlus size={16} />} onClick={() => setDialog("create")}>
                New host
              </Button>
            </>
          )
        }
      />
      <Group mb="md" align="flex-end" gap="sm" wrap="wrap">
        <TextInput
          label="Search"
          placeholder="Name, address, description or tag"
          title={`Hosts with ${HOST_SEARCH_RULE}`}
          leftSection={<IconSearch size={16} />}
          value={filter.search}
          onChange={(event) => {
            performance.mark("sb:filter-input");
            set({ search: event.currentTarget.value });
          }}
          w={280}
          data-testid="host-search"
        />
        <Select
          label="Network"
          placeholder="All"
          clearable
          w={170}
          data={(networks.data ?? []).map((n) => ({ value: n.id, label: n.name }))}
          value={filter.networkId}
          onChange={(networkId) => set({ networkId })}
        />
        <Select
          label="Switch"
          placeholder="All"
          clearable
          w={170}
          data={(switches.data ?? [])
            .filter((s) => !filter.networkId || s.networkId === filter.networkId)
            .map((s) => ({ value: s.id, label: s.name }))}
          value={filter.switchId}
          onChange={(switchId) => set({ switchId })}
        />
        <Select
          label="Tag"
          placeholder="All"
          clearable
          searchable
          w={150}
          data={tags}
          value={filter.tag}
          onChange={(tag) => set({ tag })}
        />
        <LabelledSegmentedControl
          label="Status"
          value={filter.online}
          onChange={(online) => set({ online: online as HostFilter["online"] })}
          data={[
            { value: "all", label: "All" },
            { value: "online", label: "Online" },
            { value: "offline", label: "Offline" },
          ]}
        />
        <Text size="sm" c="dimmed" ml="auto" data-testid="hosts-count">
          {hosts.data ? `${shown.length} of ${rows.length}` : ""}
        </Text>
      </Group>
      <ListState
        query={hosts}
        what="hosts"
        empty={
          canOperate && (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setDialog("create")}>
              Add the first host
            </Button>
          )
        }
      >
        {() =>
          shown.length === 0 ? (
            <Text c="dimmed" py="xl" ta="center" data-testid="no-match">
              No host matches these filters.
            </Text>
          ) : (
            <HostsTable rows={shown} onOpen={(id) => setParams({ host: id })} />
          )
        }
      </ListState>
      <HostDrawer host={openHost} switches={switchById} onClose={() => setParams({})} />
      <FormModal opened={dialog === "create"} onClose={() => setDialog(undefined)} title="New host" size="lg">
        <HostForm
          {...(filter.networkId ? { networkId: filter.networkId } : {})}
          onDone={(saved) => {
            setDialog(undefined);
            notifyDone(`Host ${saved.commonName} created with address ${saved.address}`);
          }}
        />
      </FormModal>
      <FormModal
        opened={dialog === "import"}
        onClose={() => setDialog(undefined)}
        title="Import hosts from CSV"
        size="lg"
      >
        <HostImport onDone={(created) => notifyDone(`Imported ${plural(created, "host")}`)} />
      </FormModal>
    </>
  );
}

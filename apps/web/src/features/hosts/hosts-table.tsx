import {
  createColumnHelper,
  createSortedRowModel,
  rowSortingFeature,
  type SortingState,
  tableFeatures,
  useTable,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState } from "react";
import { afterPaint } from "../../components/after-paint.ts";
import type { HostRow } from "./host-rows.ts";

const features = tableFeatures({ rowSortingFeature, sortedRowModel: createSortedRowModel() });
const helper = createColumnHelper<typeof features, HostRow>();

const ROW_HEIGHT = 36;
// Fixed widths keep columns still while rows scroll in and out; the description takes the rest.
const WIDTHS: Record<string, number | undefined> = {
  commonName: 180,
  address: 140,
  online: 90,
  switchName: 110,
  networkName: 110,
  tags: 170,
  description: undefined,
  enabled: 76,
};

/**
 * The hosts table: sorting by TanStack Table, rendering by TanStack Virtual (only the rows in
 * view exist in the DOM), so 10,000 hosts stay quick. Filtering happens before, in host-rows.ts.
 */
export function HostsTable({
  rows,
  onOpen,
  height,
}: {
  rows: readonly HostRow[];
  onOpen: (id: string) => void;
  /** CSS height of the scrolling area; by default it fills the window below the hosts page's filters. */
  height?: string;
}) {
  const [sorting, setSorting] = useState<SortingState>([]);
  const onOpenRef = useRef(onOpen);
  onOpenRef.current = onOpen;
  const [columns] = useState(() =>
    helper.columns([
      helper.accessor("commonName", {
        header: "Common name",
        cell: (info) => (
          <button type="button" className="link" onClick={() => onOpenRef.current(info.row.original.id)}>
            {info.getValue()}
          </button>
        ),
      }),
      helper.accessor("addressKey", {
        id: "address",
        header: "Address",
        cell: (info) => (
          <span style={{ fontFamily: "var(--mantine-font-family-monospace)" }}>{info.row.original.address}</span>
        ),
      }),
      helper.accessor((row) => (row.online ? 1 : 0), {
        id: "online",
        header: "Status",
        cell: (info) =>
          info.getValue() ? (
            <span data-online="true">
              <span className="dot on" />
              online
            </span>
          ) : (
            <span data-online="false">
              <span className="dot off" />
              offline
            </span>
          ),
      }),
      helper.accessor("switchName", { header: "Switch", cell: (info) => info.getValue() || "—" }),
      helper.accessor("networkName", { header: "Network" }),
      helper.accessor((row) => row.host.tags.join(" "), {
        id: "tags",
        header: "Tags",
        enableSorting: false,
        cell: (info) =>
          info.row.original.host.tags.map((tag) => (
            <span className="tag" key={tag}>
              {tag}
            </span>
          )),
      }),
      helper.accessor((row) => row.host.description, {
        id: "description",
        header: "Description",
        enableSorting: false,
      }),
      helper.accessor((row) => (row.host.enabled ? 1 : 0), {
        id: "enabled",
        header: "Enabled",
        cell: (info) => (info.getValue() ? "yes" : "no"),
      }),
    ]),
  );
  const table = useTable({
    features,
    columns,
    data: rows as HostRow[],
    state: { sorting },
    onSortingChange: setSorting,
    getRowId: (row) => row.id,
  });
  const model = table.getRowModel().rows;

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: model.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const paddingTop = items[0]?.start ?? 0;
  const paddingBottom = items.length > 0 ? virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0) : 0;

  // bench:web: the first paint with data, and each paint after a filter change.
  const painted = useRef(false);
  useEffect(() => {
    if (rows.length === 0) return;
    const mark = painted.current ? "sb:hosts-filtered" : "sb:hosts-painted";
    painted.current = true;
    afterPaint(() => performance.mark(mark));
  }, [rows]);

  return (
    <div
      ref={scrollRef}
      className="hosts-scroll"
      style={height ? { height } : { height: "calc(100vh - 260px)", minHeight: 320 }}
      data-testid="hosts-scroll"
    >
      <table
        className="hosts-table"
        data-testid="hosts-table"
        data-rows={model.length}
        aria-rowcount={model.length + 1}
      >
        <colgroup>
          {table.getAllLeafColumns().map((column) => (
            <col key={column.id} style={{ width: WIDTHS[column.id] }} />
          ))}
        </colgroup>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                return (
                  <th
                    key={header.id}
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                  >
                    {header.column.getCanSort() ? (
                      <button type="button" onClick={header.column.getToggleSortingHandler()}>
                        <table.FlexRender header={header} />
                        {sorted === "asc" ? " ▲" : sorted === "desc" ? " ▼" : ""}
                      </button>
                    ) : (
                      <span className="static">
                        <table.FlexRender header={header} />
                      </span>
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {paddingTop > 0 && (
            <tr>
              <td colSpan={columns.length} style={{ height: paddingTop, padding: 0, border: 0 }} />
            </tr>
          )}
          {items.map((item) => {
            const row = model[item.index];
            if (!row) return null;
            return (
              <tr key={row.id} data-host={row.original.commonName} aria-rowindex={item.index + 2}>
                {row.getAllCells().map((cell) => (
                  <td key={cell.id}>
                    <table.FlexRender cell={cell} />
                  </td>
                ))}
              </tr>
            );
          })}
          {paddingBottom > 0 && (
            <tr>
              <td colSpan={columns.length} style={{ height: paddingBottom, padding: 0, border: 0 }} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

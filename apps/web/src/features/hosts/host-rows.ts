import {
  type Host,
  hostSearchParts,
  matchesHostSearch,
  type Network,
  type SessionRecord,
  type Switch,
} from "@switchboard/shared";

/** One row of the hosts table: the host plus what the table shows and filters on, computed once. */
export interface HostRow {
  id: string;
  host: Host;
  commonName: string;
  address: string;
  /** The address as a number, so 10.0.0.9 sorts before 10.0.0.10. */
  addressKey: number;
  networkName: string;
  switchId: string | null;
  switchName: string;
  online: boolean;
  connectedAt: string | null;
  /** Lowercased name, address, description and tags, each apart, for the search box (HOST_SEARCH_RULE). */
  searchParts: string[];
}

export interface HostFilter {
  search: string;
  networkId: string | null;
  switchId: string | null;
  tag: string | null;
  online: "all" | "online" | "offline";
}

export const EMPTY_FILTER: HostFilter = { search: "", networkId: null, switchId: null, tag: null, online: "all" };

export function addressKey(address: string): number {
  let value = 0;
  for (const octet of address.split(".")) value = value * 256 + Number(octet);
  return value;
}

export function buildHostRows(
  hosts: readonly Host[],
  sessionsByHost: ReadonlyMap<string, SessionRecord>,
  networks: ReadonlyMap<string, Network>,
  switches: ReadonlyMap<string, Switch>,
): HostRow[] {
  return hosts.map((host) => {
    const session = sessionsByHost.get(host.id);
    return {
      id: host.id,
      host,
      commonName: host.commonName,
      address: host.address,
      addressKey: addressKey(host.address),
      networkName: networks.get(host.networkId)?.name ?? "",
      switchId: session?.switchId ?? null,
      switchName: session ? (switches.get(session.switchId)?.name ?? "") : "",
      online: session !== undefined,
      connectedAt: session?.connectedAt ?? null,
      searchParts: hostSearchParts(host),
    };
  });
}

/** The rows that pass every filter; the same array when no filter is set. */
export function filterHostRows(rows: readonly HostRow[], filter: HostFilter): readonly HostRow[] {
  // Spaces around the typed text come from typing, not from what is looked for.
  const search = filter.search.trim();
  if (!search && !filter.networkId && !filter.switchId && !filter.tag && filter.online === "all") return rows;
  return rows.filter(
    (row) =>
      (!search || matchesHostSearch(row.searchParts, search)) &&
      (!filter.networkId || row.host.networkId === filter.networkId) &&
      (!filter.switchId || row.switchId === filter.switchId) &&
      (!filter.tag || row.host.tags.includes(filter.tag)) &&
      (filter.online === "all" || row.online === (filter.online === "online")),
  );
}

export function allTags(hosts: readonly Host[]): string[] {
  const tags = new Set<string>();
  for (const host of hosts) for (const tag of host.tags) tags.add(tag);
  return [...tags].sort();
}

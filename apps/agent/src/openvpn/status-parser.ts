/**
 * `status 3` from the management interface: TAB-separated rows, because common names may hold
 * commas (the CSV of status 2 cannot be split safely). Columns are looked up by the names in the
 * HEADER rows, so a column OpenVPN adds later shifts nothing; without a header the 2.6 order is
 * assumed. A malformed row is skipped with a warning rather than failing the whole reconcile.
 */

export interface StatusClient {
  readonly commonName: string;
  /** "ip:port" as OpenVPN prints it (e.g. "192.0.2.11:43874", "[2001:db8::1]:1194" over IPv6). */
  readonly realAddress: string;
  readonly virtualAddress: string | null;
  readonly virtualIpv6Address: string | null;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Seconds since the epoch. */
  readonly connectedSince: number;
  readonly username: string | null;
  readonly clientId: number;
  readonly peerId: number | null;
  readonly cipher: string | null;
}

export interface StatusRoute {
  /** Without the cache marker; a CIDR for an iroute, an address otherwise. */
  readonly virtualAddress: string;
  /** OpenVPN glues `C` to addresses it learned from traffic (a cached host entry). */
  readonly cached: boolean;
  readonly commonName: string;
  readonly realAddress: string;
  /** Seconds since the epoch. */
  readonly lastRef: number;
}

export interface Status3 {
  readonly title: string | null;
  /** Seconds since the epoch when OpenVPN produced the report. */
  readonly time: number | null;
  readonly clients: readonly StatusClient[];
  readonly routes: readonly StatusRoute[];
  readonly globalStats: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
}

const CLIENT_COLUMNS = [
  "Common Name",
  "Real Address",
  "Virtual Address",
  "Virtual IPv6 Address",
  "Bytes Received",
  "Bytes Sent",
  "Connected Since",
  "Connected Since (time_t)",
  "Username",
  "Client ID",
  "Peer ID",
  "Data Channel Cipher",
];
const ROUTE_COLUMNS = ["Virtual Address", "Common Name", "Real Address", "Last Ref", "Last Ref (time_t)"];

type Columns = Map<string, number>;

function columns(names: readonly string[]): Columns {
  return new Map(names.map((name, index) => [name, index]));
}

function field(row: readonly string[], cols: Columns, name: string): string | undefined {
  const index = cols.get(name);
  return index === undefined ? undefined : row[index];
}

function count(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]{1,16}$/.test(text)) return undefined;
  return Number(text);
}

/** OpenVPN prints absent values as empty cells or UNDEF. */
function optional(text: string | undefined): string | null {
  return text === undefined || text === "" || text === "UNDEF" ? null : text;
}

export function parseStatus3(output: string | readonly string[]): Status3 {
  const lines = typeof output === "string" ? output.split("\n") : output;
  let clientCols = columns(CLIENT_COLUMNS);
  let routeCols = columns(ROUTE_COLUMNS);
  let title: string | null = null;
  let time: number | null = null;
  const clients: StatusClient[] = [];
  const routes: StatusRoute[] = [];
  const globalStats: Record<string, string> = {};
  const warnings: string[] = [];

  for (const raw of lines) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || line === "END") continue;
    const [kind = "", ...row] = line.split("\t");
    switch (kind) {
      case "TITLE":
        title = row.join("\t");
        break;
      case "TIME":
        time = count(row[1]) ?? null;
        break;
      case "HEADER":
        if (row[0] === "CLIENT_LIST") clientCols = columns(row.slice(1));
        else if (row[0] === "ROUTING_TABLE") routeCols = columns(row.slice(1));
        break;
      case "CLIENT_LIST": {
        const commonName = field(row, clientCols, "Common Name");
        const realAddress = field(row, clientCols, "Real Address");
        const bytesReceived = count(field(row, clientCols, "Bytes Received"));
        const bytesSent = count(field(row, clientCols, "Bytes Sent"));
        const connectedSince = count(field(row, clientCols, "Connected Since (time_t)"));
        const clientId = count(field(row, clientCols, "Client ID"));
        if (
          !commonName ||
          !realAddress ||
          bytesReceived === undefined ||
          bytesSent === undefined ||
          connectedSince === undefined ||
          clientId === undefined
        ) {
          warnings.push(`unreadable CLIENT_LIST row: ${JSON.stringify(line)}`);
          break;
        }
        clients.push({
          commonName,
          realAddress,
          virtualAddress: optional(field(row, clientCols, "Virtual Address")),
          virtualIpv6Address: optional(field(row, clientCols, "Virtual IPv6 Address")),
          bytesReceived,
          bytesSent,
          connectedSince,
          username: optional(field(row, clientCols, "Username")),
          clientId,
          peerId: count(field(row, clientCols, "Peer ID")) ?? null,
          cipher: optional(field(row, clientCols, "Data Channel Cipher")),
        });
        break;
      }
      case "ROUTING_TABLE": {
        const address = field(row, routeCols, "Virtual Address");
        const commonName = field(row, routeCols, "Common Name");
        const realAddress = field(row, routeCols, "Real Address");
        const lastRef = count(field(row, routeCols, "Last Ref (time_t)"));
        if (!address || !commonName || !realAddress || lastRef === undefined) {
          warnings.push(`unreadable ROUTING_TABLE row: ${JSON.stringify(line)}`);
          break;
        }
        const cached = address.endsWith("C");
        routes.push({
          virtualAddress: cached ? address.slice(0, -1) : address,
          cached,
          commonName,
          realAddress,
          lastRef,
        });
        break;
      }
      case "GLOBAL_STATS":
        if (row[0] !== undefined) globalStats[row[0]] = row.slice(1).join("\t");
        break;
      default:
        warnings.push(`unknown status row: ${JSON.stringify(line)}`);
    }
  }
  return { title, time, clients, routes, globalStats, warnings };
}

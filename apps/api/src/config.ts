import { isIP } from "node:net";
import { resolve } from "node:path";
import { DEFAULT_HOST_ROUTE_LIMITS, type HostRouteLimits } from "./features/hosts/host-route-rules.ts";
import { DEFAULT_PKI } from "./features/pki/pki-settings.ts";
import { KEY_TYPES, type KeyType } from "./pki/keys.ts";
import { StartupError } from "./startup-error.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** Master key from the environment (hex or base64); unset: <dataDir>/master.key. */
  masterKey: string | undefined;
  caKeyType: KeyType;
  leafKeyType: KeyType;
  certValidityDays: number;
  /** The most days an operator may choose for a certificate (CERT_VALIDITY_DAYS must fit under it). */
  certMaxValidityDays: number;
  crlValidityDays: number;
  port: number;
  host: string;
  /** Real Postgres when set; embedded PGlite in `dataDir` when not. */
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: LogLevel;
  /** Built console to serve at /, if present. */
  webDir: string | undefined;
  /** How long a graceful shutdown may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /**
   * TLS: `auto` serves HTTPS unless HOST is loopback (a self-signed certificate in DATA_DIR
   * when no files are given); `on` always does; `off` serves plain HTTP, for a TLS proxy in front.
   */
  tls: TlsMode;
  /** PEM files of the certificate (chain) and its key; both or neither. */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** Proxies whose X-Forwarded-* headers are believed: addresses, CIDRs or proxy-addr names (loopback). */
  trustProxy: string[] | undefined;
  /** Where people and agents reach this API (scheme, host, port), when not the listen address. */
  publicUrl: string | undefined;
  /** Shortest prefix of a host subnet or pushed route, and of a host subnet an operator may add. */
  hostRoutes: HostRouteLimits;
}

export const TLS_MODES = ["auto", "on", "off"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

type Env = Record<string, string | undefined>;

/**
 * Reads and checks every setting at once, so an operator sees all mistakes in one go.
 * Throws a StartupError whose message has one line per bad variable.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T | string): T => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const parsed = parse(raw);
    if (typeof parsed === "string" && parsed.startsWith("!")) {
      problems.push(`${name} ${parsed.slice(1)} (got ${JSON.stringify(redactPassword(raw))})`);
      return fallback;
    }
    return parsed as T;
  };

  const config: Config = {
    port: read("PORT", 8080, (raw) =>
      /^\d{1,5}$/.test(raw) && Number(raw) <= 65535 ? Number(raw) : "!must be a whole number from 0 to 65535",
    ),
    host: read("HOST", "127.0.0.1", (raw) =>
      /^[A-Za-z0-9.:_-]{1,253}$/.test(raw) ? raw : "!must be a host name or an IP address to listen on",
    ),
    databaseUrl: read<string | undefined>("DATABASE_URL", undefined, parseDatabaseUrl),
    dataDir: read("DATA_DIR", resolve(cwd, "data"), (raw) =>
      raw.includes("\0") ? "!must be a folder path" : resolve(cwd, raw),
    ),
    logLevel: read<LogLevel>("LOG_LEVEL", "info", (raw) =>
      (LOG_LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : `!must be one of ${LOG_LEVELS.join(", ")}`,
    ),
    webDir: read<string | undefined>("WEB_DIR", undefined, (raw) => resolve(cwd, raw)),
    masterKey: env.SWITCHBOARD_MASTER_KEY || undefined,
    caKeyType: read<KeyType>("PKI_CA_KEY_TYPE", DEFAULT_PKI.caKeyType, keyType),
    leafKeyType: read<KeyType>("PKI_LEAF_KEY_TYPE", DEFAULT_PKI.leafKeyType, keyType),
    certValidityDays: read("CERT_VALIDITY_DAYS", DEFAULT_PKI.leafValidityDays, days(1, 3650)),
    certMaxValidityDays: read("CERT_MAX_VALIDITY_DAYS", DEFAULT_PKI.maxValidityDays, days(1, 3650)),
    crlValidityDays: read("CRL_VALIDITY_DAYS", DEFAULT_PKI.crlValidityDays, days(2, 365)),
    shutdownTimeoutMs: read("SHUTDOWN_TIMEOUT_MS", 10_000, (raw) =>
      /^\d{1,7}$/.test(raw) && Number(raw) >= 100 ? Number(raw) : "!must be a whole number of milliseconds >= 100",
    ),
    tls: read<TlsMode>("TLS", "auto", (raw) =>
      (TLS_MODES as readonly string[]).includes(raw) ? (raw as TlsMode) : `!must be one of ${TLS_MODES.join(", ")}`,
    ),
    tlsCertFile: read<string | undefined>("TLS_CERT", undefined, (raw) => resolve(cwd, raw)),
    tlsKeyFile: read<string | undefined>("TLS_KEY", undefined, (raw) => resolve(cwd, raw)),
    trustProxy: read<string[] | undefined>("TRUST_PROXY", undefined, parseTrustProxy),
    publicUrl: read<string | undefined>("PUBLIC_URL", undefined, parsePublicUrl),
    hostRoutes: {
      minPrefix: read("HOST_SUBNET_MIN_PREFIX", DEFAULT_HOST_ROUTE_LIMITS.minPrefix, prefixLength),
      operatorMinPrefix: read(
        "HOST_SUBNET_OPERATOR_MIN_PREFIX",
        DEFAULT_HOST_ROUTE_LIMITS.operatorMinPrefix,
        prefixLength,
      ),
    },
  };
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    problems.push("TLS_CERT and TLS_KEY go together: set both (PEM files) or neither");
  }
  if (config.tls === "off" && config.tlsCertFile !== undefined) {
    problems.push("TLS=off contradicts TLS_CERT/TLS_KEY: drop one");
  }
  if (config.certValidityDays > config.certMaxValidityDays) {
    problems.push(
      `CERT_VALIDITY_DAYS must not exceed CERT_MAX_VALIDITY_DAYS (${config.certValidityDays} > ${config.certMaxValidityDays})`,
    );
  }
  if (config.hostRoutes.operatorMinPrefix < config.hostRoutes.minPrefix) {
    problems.push(
      `HOST_SUBNET_OPERATOR_MIN_PREFIX must not be shorter than HOST_SUBNET_MIN_PREFIX (/${config.hostRoutes.operatorMinPrefix} < /${config.hostRoutes.minPrefix})`,
    );
  }
  if (problems.length > 0) {
    throw new StartupError(`configuration error: ${problems.join("; ")}`);
  }
  return config;
}

function keyType(raw: string): KeyType | string {
  return (KEY_TYPES as readonly string[]).includes(raw) ? (raw as KeyType) : `!must be one of ${KEY_TYPES.join(", ")}`;
}

/** A floor for routes: /1 at the least (/0 is never a host's), /32 at the most. */
function prefixLength(raw: string): number | string {
  return /^\d{1,2}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 32
    ? Number(raw)
    : "!must be a prefix length from 1 to 32";
}

function days(min: number, max: number) {
  return (raw: string): number | string =>
    /^\d{1,5}$/.test(raw) && Number(raw) >= min && Number(raw) <= max
      ? Number(raw)
      : `!must be a whole number of days from ${min} to ${max}`;
}

/** Names proxy-addr knows for whole ranges. */
const PROXY_RANGE_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

function parseTrustProxy(raw: string): string[] | string {
  const entries = raw.split(",").map((entry) => entry.trim());
  const bad = entries.find((entry) => !PROXY_RANGE_NAMES.has(entry) && !isAddressOrCidr(entry));
  if (bad !== undefined) {
    return `!must be a comma-separated list of proxy addresses, CIDRs or loopback/linklocal/uniquelocal (${JSON.stringify(bad)} is none)`;
  }
  return entries;
}

function isAddressOrCidr(entry: string): boolean {
  const [address = "", prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function parsePublicUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "!must be a URL like https://vpn.example.net";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "!must start with https:// (or http://)";
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) {
    return "!must be scheme, host and port only: the API is served at the root";
  }
  return url.origin;
}

function parseDatabaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "!must be a URL like postgresql://user:password@host:5432/database";
  }
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
    return "!must start with postgresql:// (only PostgreSQL is supported)";
  }
  if (!url.hostname && !url.searchParams.get("host")) return "!must name a host";
  if (url.pathname.length <= 1) return "!must name a database after the host, e.g. .../switchboard";
  return raw;
}

/** The URL without its password, for logs and error messages. */
export function describeDatabaseUrl(raw: string): string {
  const url = new URL(raw);
  return `${url.hostname || url.searchParams.get("host")}:${url.port || 5432}${url.pathname}`;
}

/** user:password@ in a URL-like value becomes user:***@, so errors and logs never carry secrets. */
function redactPassword(raw: string): string {
  return raw.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

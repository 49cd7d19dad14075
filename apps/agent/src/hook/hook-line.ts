import { parseIpv4 } from "@switchboard/shared";

/**
 * The one line the client hook sends per event: TAB-separated, starting with a version tag, so
 * the format can change without an old hook's line being misread. Pure; the listener feeds it
 * raw lines. Fields (hook-script.ts writes them in this order):
 *   sb1 script_type time_unix common_name real_ip real_port virtual_ip bytes_received bytes_sent time_duration dev
 */
export const HOOK_LINE_TAG = "sb1";

export interface HookEvent {
  readonly kind: "connect" | "disconnect";
  readonly commonName: string;
  /** "ip:port" like status 3 prints it, or just the ip. */
  readonly realAddress: string | null;
  readonly virtualAddress: string | null;
  /** Seconds since the epoch: OpenVPN's time_unix, which for a disconnect is still the connect time. */
  readonly connectedAt: number;
  readonly bytesReceived: number | null;
  readonly bytesSent: number | null;
  readonly durationSeconds: number | null;
  readonly dev: string | null;
}

const NUMBER = /^[0-9]{1,16}$/;
const REAL_IP = /^[0-9A-Fa-f:.]{2,45}$/;

/** 1-256 characters, none of them a control character (OpenVPN remaps those in CNs anyway). */
function printable(text: string): boolean {
  if (text.length === 0 || text.length > 256) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

function count(text: string | undefined): number | null {
  return text !== undefined && NUMBER.test(text) ? Number(text) : null;
}

/** A hook event, or undefined for anything else (the status 3 reconcile covers what is dropped here). */
export function parseHookLine(raw: string): HookEvent | undefined {
  // Defensive: if a line was ever cut short, the next one starts at the last tag.
  const start = raw.lastIndexOf(`${HOOK_LINE_TAG}\t`);
  if (start === -1) return undefined;
  const fields = raw.slice(start).replace(/\r$/, "").split("\t");
  if (fields.length !== 11) return undefined;
  const [, scriptType, timeUnix, commonName, ip, port, virtualIp, received, sent, duration, dev] = fields;
  const kind =
    scriptType === "client-connect" ? "connect" : scriptType === "client-disconnect" ? "disconnect" : undefined;
  const connectedAt = count(timeUnix);
  if (kind === undefined || connectedAt === null || commonName === undefined || !printable(commonName)) {
    return undefined;
  }
  const realIp = ip !== undefined && REAL_IP.test(ip) ? ip : null;
  const realPort = count(port);
  const realAddress =
    realIp === null
      ? null
      : realPort === null
        ? realIp
        : realIp.includes(":")
          ? `[${realIp}]:${realPort}`
          : `${realIp}:${realPort}`;
  return {
    kind,
    commonName,
    realAddress,
    virtualAddress: virtualIp !== undefined && parseIpv4(virtualIp) !== undefined ? virtualIp : null,
    connectedAt,
    bytesReceived: kind === "disconnect" ? count(received) : null,
    bytesSent: kind === "disconnect" ? count(sent) : null,
    durationSeconds: kind === "disconnect" ? count(duration) : null,
    dev: dev !== undefined && /^[A-Za-z0-9_.-]{1,15}$/.test(dev) ? dev : null,
  };
}

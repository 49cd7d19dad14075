import { backboneLinkPaths, type ServerFileName, switchPaths } from "@switchboard/shared";

/**
 * Where each part of the desired state lives, relative to the agent's base directory. Derived
 * from the shared layout (render/paths.ts), which the API also uses to render the configs that
 * name these files, so the two can never disagree.
 */
const BASE = "/layout";
const absolute = switchPaths(BASE);
const relative = (path: string): string => path.slice(BASE.length + 1);

export const SERVER_FILES: Readonly<Record<ServerFileName, string>> = {
  serverConfig: relative(absolute.serverConfig),
  caCert: relative(absolute.caCert),
  serverCert: relative(absolute.serverCert),
  serverKey: relative(absolute.serverKey),
  crl: relative(absolute.crl),
  tlsCryptKey: relative(absolute.tlsCryptKey),
  backboneTlsCryptKey: relative(absolute.backboneTlsCryptKey),
  backboneCert: relative(absolute.backboneCert),
  backboneKey: relative(absolute.backboneKey),
};

export const SECRET_FILES: ReadonlySet<ServerFileName> = new Set([
  "serverKey",
  "backboneKey",
  "tlsCryptKey",
  "backboneTlsCryptKey",
]);

/** Files the data server reads only at start-up, as root: a change needs a reload (the CRL is re-read on change by OpenVPN itself). */
export const SERVER_RELOAD_FILES: ReadonlySet<ServerFileName> = new Set([
  "serverConfig",
  "caCert",
  "serverCert",
  "serverKey",
  "tlsCryptKey",
]);

/** Files every backbone link reads only at start-up, as root. */
export const LINK_RELOAD_FILES: ReadonlySet<ServerFileName> = new Set([
  "caCert",
  "backboneCert",
  "backboneKey",
  "backboneTlsCryptKey",
]);

export const CCD_DIR = relative(absolute.ccdDir);
export const HOOK_PROGRAM = relative(absolute.hookCommand);
/** The FIFO the client hook writes to (hook/hook-script.ts). Not in render/paths.ts: only the agent and its hook use it. */
export const HOOK_FIFO = "hook.fifo";

export function ccdPath(commonName: string): string {
  return `${CCD_DIR}/${commonName}`;
}

export function linkConfigPath(peerOffset: number): string {
  return relative(backboneLinkPaths({ baseDir: BASE }, peerOffset).config);
}

/** The peer offset of a `backbone-<n>.conf` name, or undefined for any other name. */
export function linkOffsetOf(name: string): number | undefined {
  const match = /^backbone-([1-9][0-9]{0,4})\.conf$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

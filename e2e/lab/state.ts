import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * What a lab created, written after every step so `pnpm lab down` can undo it after a crash
 * or an interrupted run: namespaces by name, processes by pid. Mode 0600: it holds the lab's
 * admin token and password.
 */

export const LAB_ROOT = process.env.SWITCHBOARD_LAB_ROOT ?? "/tmp/switchboard-lab";

export interface LabSwitchState {
  name: string;
  id: string;
  netns: string;
  /** Its address on the lab's internet. */
  uplink: string;
  /** Bind-mounted over /var/lib/switchboard-agent inside the switch: its own disk. */
  agentDir: string;
  agentPid?: number;
}

export interface LabHostState {
  name: string;
  id: string;
  netns: string;
  uplink: string;
  dir: string;
  dataAddress: string;
  pid?: number;
}

export interface LabState {
  id: string;
  dir: string;
  createdAt: string;
  internetNs: string;
  controlNs: string;
  apiAddress: string;
  namespaces: string[];
  /** Long-running processes other than agents and hosts: the API and the two forwarders. */
  pids: Record<string, number>;
  /** Whether the lab made the empty /var/lib/switchboard-agent mount point (removed on down). */
  madeMountPoint: boolean;
  consoleUrl?: string;
  token?: string;
  admin?: { username: string; password: string };
  networkId?: string;
  switches: LabSwitchState[];
  hosts: LabHostState[];
}

export function stateFile(dir: string): string {
  return join(dir, "state.json");
}

/** Labs taken down (or being taken down) by this process: code still running must not write them back. */
const closed = new Set<string>();

export function closeState(dir: string): void {
  closed.add(dir);
}

export function saveState(state: LabState): void {
  if (closed.has(state.dir)) return;
  mkdirSync(state.dir, { recursive: true, mode: 0o700 });
  const path = stateFile(state.dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function loadState(dir: string): LabState | undefined {
  const path = stateFile(dir);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8")) as LabState;
}

/** Every lab with a state file under LAB_ROOT, oldest first. */
export function listLabs(): LabState[] {
  if (!existsSync(LAB_ROOT)) return [];
  return readdirSync(LAB_ROOT)
    .map((name) => loadState(join(LAB_ROOT, name)))
    .filter((state): state is LabState => state !== undefined)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

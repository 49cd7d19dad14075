import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { guardExit } from "./exit-guard.ts";
import { downLab, downLabSync, Lab, labMissing, MAX_REGISTERED_HOSTS } from "./lab.ts";
import { type LabState, listLabs } from "./state.ts";
import { alive, netnsExists } from "./system.ts";

const USAGE = `usage:
  pnpm lab up [--switches N] [--hosts M] [--port P]   build a lab (root): N switches (default 2), M hosts (default 4)
         [--registered-hosts R]                        and R more hosts registered (bulk import) that never connect
  pnpm lab down                                        remove every lab: processes (by pid), namespaces, files
  pnpm lab status                                      what runs

  DATABASE_URL  PostgreSQL for the lab's API instead of its embedded database; it must be reachable
                from inside a namespace, e.g. postgresql://postgres@/lab?host=/var/run/postgresql`;

/**
 * A lab `up` is building, until it is up (then it is meant to outlive this process): an
 * interrupted or crashed `up` takes it down again instead of leaving half a lab running.
 */
let building: LabState | undefined;
let command: string | undefined;

const guard = guardExit({
  summary: (why) =>
    command === "up"
      ? `lab: up FAILED: ${why.split("\n")[0]}${building ? `; removed what it had made (logs in ${building.dir})` : ""}`
      : `lab: ${command ?? "lab"} FAILED: ${why.split("\n")[0]}${command === "down" ? " (run `pnpm lab down` again)" : ""}`,
  async cleanup() {
    if (building) await downLab(building, { keepLogs: true });
  },
  cleanupSync() {
    if (building) downLabSync(building);
  },
});

function count(text: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return value;
}

async function up(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      switches: { type: "string" },
      hosts: { type: "string" },
      port: { type: "string" },
      "registered-hosts": { type: "string" },
    },
    strict: true,
  });
  const missing = labMissing();
  if (missing) throw new Error(`the lab cannot run here: ${missing}`);
  const lab = await Lab.up({
    switches: count(values.switches, 2, 1, 20, "switches"),
    hosts: count(values.hosts, 4, 0, 80, "hosts"),
    consolePort: count(values.port, 8480, 0, 65535, "port"),
    registeredHosts: count(values["registered-hosts"], 0, 0, MAX_REGISTERED_HOSTS, "registered-hosts"),
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    log: (line) => process.stdout.write(`lab: ${line}\n`),
    onState: (state) => {
      building = state;
    },
  });
  // Up: from here on the lab outlives this process (`pnpm lab down` removes it).
  building = undefined;
  const { state } = lab;
  const built = existsSync(fileURLToPath(new URL("../../apps/web/dist/index.html", import.meta.url)));
  if (!built) process.stdout.write("lab: the console is not built: run `pnpm build` (the API answers meanwhile)\n");
  process.stdout.write(
    [
      "",
      `console:  ${state.consoleUrl}  (from this machine)`,
      `login:    ${state.admin?.username} / ${state.admin?.password}`,
      `api token (admin): ${state.token}`,
      `files and logs: ${state.dir}`,
      "watch a host: ip netns exec <namespace> ping <address>; `pnpm lab status` lists them; `pnpm lab down` removes it all",
      "",
    ].join("\n"),
  );
}

function status(): void {
  const labs = listLabs();
  if (labs.length === 0) {
    process.stdout.write("no lab\n");
    return;
  }
  const mark = (pid: number | undefined) => (pid !== undefined && alive(pid) ? `pid ${pid} running` : "not running");
  for (const state of labs) {
    process.stdout.write(
      `lab ${state.id} since ${state.createdAt}: console ${state.consoleUrl ?? "-"}, files ${state.dir}\n`,
    );
    for (const [name, pid] of Object.entries(state.pids)) process.stdout.write(`  ${name.padEnd(16)} ${mark(pid)}\n`);
    for (const sw of state.switches)
      process.stdout.write(`  switch ${sw.name.padEnd(9)} ${sw.netns} ${sw.uplink}, agent ${mark(sw.agentPid)}\n`);
    for (const host of state.hosts)
      process.stdout.write(`  ${host.name.padEnd(16)} ${host.netns} ${host.dataAddress}, openvpn ${mark(host.pid)}\n`);
    const gone = state.namespaces.filter((netns) => !netnsExists(netns));
    if (gone.length > 0) process.stdout.write(`  namespaces missing: ${gone.join(", ")}\n`);
  }
}

async function down(): Promise<void> {
  const labs = listLabs();
  for (const state of labs) {
    await downLab(state);
    process.stdout.write(`lab ${state.id}: removed ${state.namespaces.length} namespaces and their processes\n`);
  }
  if (labs.length === 0) process.stdout.write("no lab\n");
}

async function main(): Promise<number> {
  const [first, ...rest] = process.argv.slice(2);
  command = first;
  if (command === "up") await up(rest);
  else if (command === "down") await down();
  else if (command === "status") status();
  else {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  return 0;
}

main().then(
  (code) => guard.finish(code),
  (error: unknown) => {
    process.stderr.write(`lab: ${error instanceof Error ? error.message : String(error)}\n`);
    guard.finish(1);
  },
);

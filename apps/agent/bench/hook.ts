/**
 * pnpm bench:hook — how long OpenVPN waits for the client hook, and how soon the agent has the event.
 *
 * OpenVPN runs client-connect/-disconnect synchronously: the whole server waits while it runs.
 * The agent's hook is POSIX sh + dd into a FIFO (src/hook/hook-script.ts); the baseline is what a
 * person would write first, the same job in Node: a minimal plain-JS script that writes one line
 * to a unix socket. Each is run RUNS times (BENCH_RUNS, default 50) with the environment OpenVPN
 * gives it, interleaved so that load on the machine hits both alike, one at a time as OpenVPN
 * runs them. Timed from spawn to exit (what OpenVPN waits) and from spawn to the line being in
 * the agent's hands (what the agent waits), with lost lines counted. Then the agent-down cases,
 * where the hook must return at once: FIFO without reader, and no FIFO at all.
 * With root and OpenVPN 2.6 it also runs the agent's lab (test/support/lab.ts): a real server
 * and client reconnected RECONNECTS times (BENCH_RECONNECTS, default 10), timing the hook's
 * event against OpenVPN's own >CLIENT:ESTABLISHED on the management socket.
 * Last line:
 *   hook: sh p50 <ms> ms, p99 <ms> ms; node p50 <ms> ms, p99 <ms> ms; ratio node/sh <p50 ratio>
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missing } from "@switchboard/testkit/env";
import { ms, percentile } from "@switchboard/testkit/stats";
import { waitFor } from "@switchboard/testkit/wait";
import { HookListener } from "../src/hook/hook-listener.ts";
import { renderHookScript } from "../src/hook/hook-script.ts";
import { type ClientNotification, ManagementClient } from "../src/openvpn/management-client.ts";
import { spawnRunner } from "../src/system/command-runner.ts";
import { createLab, LAB_NEEDS, type Lab } from "../test/support/lab.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const RECONNECTS = Number(process.env.BENCH_RECONNECTS ?? 10);
/** A hook that has not exited by then is hung, not slow. */
const EXIT_DEADLINE_MS = 20_000;
/** After the hook exited its line is already written; one not read by then is lost. */
const LINE_DEADLINE_MS = 5_000;

const ENV = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  script_type: "client-connect",
  time_unix: "1795690018",
  common_name: "bench.host",
  trusted_ip: "192.0.2.11",
  ifconfig_pool_remote_ip: "10.100.100.211",
  dev: "sbs-bench",
};

interface Run {
  exitMs: number;
  /** Spawn to the line in the agent's (or the Node baseline server's) hands; undefined if lost. */
  lineMs: number | undefined;
}

/** Spawns `program` with `port` as its marker and times it to its exit and to its line in `arrivals`. */
async function timeRun(
  what: string,
  program: string,
  args: string[],
  port: number,
  arrivals: Map<number, number>,
): Promise<Run> {
  const started = performance.now();
  let exitedAt: number | undefined;
  let failure: Error | undefined;
  const child: ChildProcess = spawn(program, args, { env: { ...ENV, trusted_port: String(port) }, stdio: "ignore" });
  child.once("error", (error) => {
    failure = error;
  });
  child.once("exit", () => {
    exitedAt = performance.now();
  });
  await waitFor(
    `${what} (run ${port}) to exit`,
    () => {
      if (failure) throw failure;
      return exitedAt !== undefined;
    },
    EXIT_DEADLINE_MS,
    1,
  ).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  const lineAt = await waitFor(`${what}'s line (run ${port})`, () => arrivals.get(port), LINE_DEADLINE_MS, 1).catch(
    () => undefined,
  );
  return { exitMs: (exitedAt as number) - started, lineMs: lineAt === undefined ? undefined : lineAt - started };
}

function summary(label: string, runs: readonly Run[]): string {
  const exits = runs.map((r) => r.exitMs);
  const lines = runs.flatMap((r) => (r.lineMs === undefined ? [] : [r.lineMs]));
  const lost = runs.length - lines.length;
  return `${label}: exit p50 ${ms(percentile(exits, 50))} ms, p99 ${ms(percentile(exits, 99))} ms; line in hand p50 ${ms(percentile(lines, 50))} ms, p99 ${ms(percentile(lines, 99))} ms; lost ${lost} of ${runs.length}`;
}

function exitsOnly(label: string, runs: readonly Run[]): string {
  const exits = runs.map((r) => r.exitMs);
  return `${label}: exit p50 ${ms(percentile(exits, 50))} ms, p99 ${ms(percentile(exits, 99))} ms, max ${ms(Math.max(...exits))} ms (${runs.length} runs)`;
}

const dir = mkdtempSync(join(tmpdir(), "sb-bench-hook-"));
let lab: Lab | undefined;
async function cleanup(): Promise<void> {
  await lab?.close();
  lab = undefined;
  rmSync(dir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

async function listen(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, resolve);
  });
}

async function alive(): Promise<{ sh: Run[]; node: Run[] }> {
  const fifo = join(dir, "hook.fifo");
  const script = join(dir, "client-hook");
  writeFileSync(script, renderHookScript(fifo), { mode: 0o755 });
  const shArrivals = new Map<number, number>();
  const warnings: string[] = [];
  const listener = new HookListener(
    fifo,
    spawnRunner(),
    (event) => shArrivals.set(Number(event.realAddress?.split(":").at(-1)), performance.now()),
    (warning) => warnings.push(warning),
  );
  await listener.start();

  // The baseline: one line to a unix socket from plain-JS Node, failing silently like the hook.
  const sock = join(dir, "node.sock");
  const nodeArrivals = new Map<number, number>();
  const server = createServer((connection) => {
    let buffer = "";
    connection.setEncoding("utf8");
    connection.on("data", (chunk: string) => {
      buffer += chunk;
      const line = buffer.split("\n")[0];
      if (buffer.includes("\n") && line !== undefined) nodeArrivals.set(Number(line.split("\t")[1]), performance.now());
    });
    connection.on("error", () => undefined);
  });
  await listen(server, sock);
  const nodeHook = join(dir, "node-hook.mjs");
  writeFileSync(
    nodeHook,
    `import { createConnection } from "node:net";\nconst s = createConnection(${JSON.stringify(sock)}, () => s.end("sb1\\t" + process.env.trusted_port + "\\t" + process.env.common_name + "\\n"));\ns.on("error", () => process.exit(0));\n`,
  );

  const sh: Run[] = [];
  const node: Run[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      sh.push(await timeRun("the sh hook", script, [], i, shArrivals));
      node.push(await timeRun("the Node hook", process.execPath, [nodeHook], i, nodeArrivals));
    }
  } finally {
    listener.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (warnings.length > 0) console.log(`listener warnings: ${warnings.slice(0, 3).join("; ")}`);
  console.log(summary("agent alive, sh+dd into the FIFO", sh));
  console.log(summary("agent alive, Node to a unix socket (baseline)", node));
  return { sh, node };
}

/** The agent is down: the hook must return at once whether its FIFO is there or not. */
async function down(): Promise<void> {
  const fifo = join(dir, "down.fifo");
  const script = join(dir, "client-hook-down");
  writeFileSync(script, renderHookScript(fifo), { mode: 0o755 });
  const count = Math.min(RUNS, 20);
  const timeExit = async (what: string, program: string, args: string[]) => {
    const runs: Run[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const child = spawn(program, args, { env: { ...ENV, trusted_port: String(i) }, stdio: "ignore" });
      let exitedAt: number | undefined;
      child.once("exit", () => {
        exitedAt = performance.now();
      });
      await waitFor(`${what} (run ${i}) to exit`, () => exitedAt !== undefined, EXIT_DEADLINE_MS, 1).catch(
        (error: unknown) => {
          child.kill("SIGKILL");
          throw error;
        },
      );
      runs.push({ exitMs: (exitedAt as number) - started, lineMs: undefined });
    }
    return runs;
  };
  console.log(exitsOnly("agent never ran (no FIFO), sh", await timeExit("the sh hook without FIFO", script, [])));
  execFileSync("mkfifo", [fifo]);
  console.log(
    exitsOnly("agent down (FIFO without reader), sh", await timeExit("the sh hook with an unread FIFO", script, [])),
  );
  const nodeHook = join(dir, "node-hook.mjs");
  console.log(
    exitsOnly(
      "agent down (no socket), Node baseline",
      await timeExit("the Node hook without socket", process.execPath, [nodeHook]),
    ),
  );
}

/** Real OpenVPN: the hook's connect event against OpenVPN's own >CLIENT:ESTABLISHED. */
async function realOpenVpn(): Promise<number> {
  const reason = missing(...LAB_NEEDS);
  if (reason !== undefined) {
    console.log(`real OpenVPN: skipped (${reason})`);
    return 0;
  }
  lab = await createLab(["bench.one"]);
  const fifo = join(lab.paths.baseDir, "hook.fifo");
  await lab.startServer({ hook: renderHookScript(fifo) });
  const management = new ManagementClient({ socketPath: lab.paths.managementSocket }).start();
  await management.whenReady(20_000);
  const hookAt: number[] = [];
  const establishedAt: { at: number; notification: ClientNotification }[] = [];
  const listener = new HookListener(fifo, spawnRunner(), (event) => {
    if (event.kind === "connect") hookAt.push(performance.now());
  });
  await listener.start();
  management.on("client", (notification) => {
    if (notification.event === "ESTABLISHED") establishedAt.push({ at: performance.now(), notification });
  });
  const lags: number[] = [];
  let lost = 0;
  let after = 0;
  try {
    await lab.startClient("bench.one");
    for (let i = 0; i <= RECONNECTS; i++) {
      const established = await waitFor(`>CLIENT:ESTABLISHED number ${i + 1}`, () => establishedAt[i], 60_000, 5);
      // Its line is in the FIFO before OpenVPN says ESTABLISHED; allow the event loop a moment.
      const hook = await waitFor(`hook connect event number ${i + 1}`, () => hookAt[i], LINE_DEADLINE_MS, 1).catch(
        () => undefined,
      );
      if (hook === undefined) lost += 1;
      else {
        lags.push(hook - established.at);
        if (hook > established.at) after += 1;
      }
      if (i < RECONNECTS) await management.clientKill(established.notification.clientId);
    }
  } finally {
    listener.close();
    management.close();
    await lab.close();
    lab = undefined;
  }
  console.log(
    `real OpenVPN, hook event minus >CLIENT:ESTABLISHED (negative: hook first): p50 ${ms(percentile(lags, 50))} ms, p99 ${ms(percentile(lags, 99))} ms, max ${ms(Math.max(...lags))} ms; after ESTABLISHED ${after}, lost ${lost} of ${RECONNECTS + 1} connects`,
  );
  return lost;
}

async function main(): Promise<void> {
  const { sh, node } = await alive();
  await down();
  const lostReal = await realOpenVpn();
  const exits = (runs: Run[]) => runs.map((r) => r.exitMs);
  const p50 = (runs: Run[]) => percentile(exits(runs), 50);
  const p99 = (runs: Run[]) => percentile(exits(runs), 99);
  const lost = [...sh, ...node].filter((r) => r.lineMs === undefined).length + lostReal;
  console.log(
    `hook: sh p50 ${ms(p50(sh))} ms, p99 ${ms(p99(sh))} ms; node p50 ${ms(p50(node))} ms, p99 ${ms(p99(node))} ms; ratio node/sh ${(p50(node) / p50(sh)).toFixed(1)}`,
  );
  if (lost > 0) throw new Error(`${lost} hook lines never reached their reader within ${LINE_DEADLINE_MS} ms`);
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(cleanup);

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pinnedRequest } from "./pinned-https.ts";

const MAIN = fileURLToPath(new URL("../../../apps/api/src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves with the URL once the server says it is up; rejects if it exits first. */
  ready: Promise<string>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `apps/api/src/main.ts` as a real process, the way `pnpm start` does. */
export function startServer(env: Record<string, string>): ServerProcess {
  // One process (no tsx wrapper) so its pid and signals are the server's own.
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", LOG_LEVEL: "warn", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /Switchboard is up: (https?:\/\/\S+\/)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", check);
    exited.then((code) => reject(new Error(`server exited with ${code} before it was up: ${stderr}`)));
  });
  ready.catch(() => {});
  return {
    child,
    output: () => ({ stdout, stderr }),
    ready,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The setup link's token from a server's first-start output (waits up to 4 s for the line). */
export async function setupTokenOf(server: ServerProcess): Promise<string> {
  const stdout = () => server.output().stdout;
  for (let i = 0; i < 200 && !stdout().includes("setup#token="); i++) await new Promise((r) => setTimeout(r, 20));
  const setupToken = /setup#token=(\S+)/.exec(stdout())?.[1];
  if (!setupToken) throw new Error("the server printed no setup link");
  return setupToken;
}

/**
 * First start: the setup token makes the first administrator, whose session then creates an
 * admin API token (as automation would). Returns the token.
 */
export async function createFirstAdmin(
  base: string,
  setupToken: string,
  admin: { username: string; password: string },
  tokenName: string,
  /** The server's own certificate, when it serves HTTPS with one no system authority signed. */
  ca?: string,
): Promise<string> {
  const json = { "content-type": "application/json" };
  const trust = ca ? { ca } : {};
  const setup = await pinnedRequest(`${base}/api/setup`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ token: setupToken, ...admin }),
    ...trust,
  });
  if (setup.status !== 201) throw new Error(`setup: ${setup.status} ${setup.text}`);
  const cookie = String(setup.headers["set-cookie"] ?? "").split(";")[0] ?? "";
  const { csrfToken } = setup.json<{ csrfToken: string }>();
  const created = await pinnedRequest(`${base}/api/tokens`, {
    method: "POST",
    headers: { ...json, cookie, "x-csrf-token": csrfToken },
    body: JSON.stringify({ name: tokenName, role: "admin" }),
    ...trust,
  });
  if (created.status !== 201) throw new Error(`token: ${created.status} ${created.text}`);
  return created.json<{ token: string }>().token;
}

/** First start of a server process, as a bench does: `Authorization` headers with an admin token. */
export async function adminTokenHeaders(server: ServerProcess, base: string): Promise<Record<string, string>> {
  const admin = { username: "bench", password: "bench password 123" };
  const token = await createFirstAdmin(base, await setupTokenOf(server), admin, "bench");
  return { authorization: `Bearer ${token}` };
}

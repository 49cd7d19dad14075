import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Post } from "@switchboard/testkit/network-fixture";
import { createFirstAdmin, type ServerProcess, setupTokenOf, startServer } from "@switchboard/testkit/server-process";

const BUILT_CONSOLE = fileURLToPath(new URL("../../../apps/web/dist/index.html", import.meta.url));

export const ADMIN = { username: "admin", password: "console password 1" };

export interface ConsoleServer {
  /** The running process (a new one after restart()). */
  readonly server: ServerProcess;
  /** http://127.0.0.1:<port> */
  base: string;
  /** Authorization header of an admin API token, for seeding data the way automation would. */
  auth: Record<string, string>;
  api<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  /** POST as the admin token: the `post` the test kit's seedNetwork takes. */
  post: Post;
  /**
   * Stops the API process (SIGTERM, as a deploy would) and starts it again on the same port and
   * database; `whileDown` runs in between. Resolves once the new process is up.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real API (apps/api/src/main.ts) in its own process on a free loopback port, with a fresh
 * embedded database, serving the built console. The first administrator is created with the
 * setup link it prints, as a person would.
 */
export async function startConsoleServer(): Promise<ConsoleServer> {
  if (!existsSync(BUILT_CONSOLE)) throw new Error("apps/web/dist is missing: run `pnpm build` first");
  const dataDir = mkdtempSync(join(tmpdir(), "sb-e2e-data-"));
  let server = startServer({ DATA_DIR: dataDir });
  const base = (await server.ready).replace(/\/$/, "");
  try {
    const token = await createFirstAdmin(base, await setupTokenOf(server), ADMIN, "e2e seeding");
    const auth = { authorization: `Bearer ${token}` };

    const api = async <T>(method: string, path: string, body?: unknown, contentType = "application/json") => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { "content-type": contentType }) },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };
    return {
      get server() {
        return server;
      },
      base,
      auth,
      api,
      post: (path, body) => api("POST", path, body),
      async restart(whileDown) {
        const code = await server.stop();
        if (code !== 0) throw new Error(`the API exited with ${code} on SIGTERM: ${server.output().stderr}`);
        await whileDown?.();
        server = startServer({ DATA_DIR: dataDir, PORT: new URL(base).port });
        await server.ready;
      },
      async stop() {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

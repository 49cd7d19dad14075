import { describe, expect, it } from "vitest";
import type { FileMode } from "../../src/files/file-writer.ts";
import { type ApplyDeps, applyActions } from "../../src/reconcile/apply.ts";
import type { Action } from "../../src/reconcile/plan.ts";
import type { RouteApplyResult } from "../../src/routes/route-programmer.ts";

function fakes(failWrites: string[] = []) {
  const log: string[] = [];
  const deps: ApplyDeps = {
    files: {
      async write(path: string, _content: string, mode: FileMode) {
        if (failWrites.includes(path)) throw new Error(`disk full writing ${path}`);
        log.push(`write ${path} ${mode}`);
      },
      async remove(path: string) {
        log.push(`remove ${path}`);
        return true;
      },
    },
    routes: {
      async apply(routes): Promise<RouteApplyResult> {
        log.push(`routes ${routes.length}`);
        return { applied: [...routes], failed: [], added: routes.length, removed: 0, routeCommands: 1, reads: 1 };
      },
    },
    server: {
      async reload() {
        log.push("reload server");
      },
      async clientKill(cid, next) {
        log.push(`client-kill ${cid}${next ? " next" : ""}`);
      },
    },
    link: (offset) => (offset === 2 ? { reload: async () => void log.push(`reload link ${offset}`) } : undefined),
  };
  return { deps, log };
}

const write = (path: string): Action => ({ kind: "write-file", path, content: "x", mode: "public" });

describe("applyActions", () => {
  it("carries out the actions in order through the injected pieces", async () => {
    const { deps, log } = fakes();
    const outcome = await applyActions(
      [
        {
          kind: "apply-routes",
          routes: [{ destination: "10.0.0.1/32", via: "10.1.1.1", dev: "d" }],
          verifiedFullSnapshot: false,
        },
        write("ccd/db-1"),
        { kind: "remove-file", path: "ccd/old" },
        { kind: "kill-session", commonName: "db-1", clientId: 4, because: "client-config-changed" },
        { kind: "reload-link", peerOffset: 2, because: ["backbone-2.conf"] },
        { kind: "reload-link", peerOffset: 3, because: ["backbone-3.conf"] },
      ],
      deps,
    );
    expect(log).toEqual(["routes 1", "write ccd/db-1 public", "remove ccd/old", "client-kill 4", "reload link 2"]);
    expect(outcome.errors).toEqual([]);
  });

  it("does not reload the server when a file it would re-read failed to write", async () => {
    const { deps, log } = fakes(["server.key"]);
    const outcome = await applyActions(
      [write("server.crt"), write("server.key"), { kind: "reload-server", because: ["server.crt", "server.key"] }],
      deps,
    );
    expect(log).toEqual(["write server.crt public"]);
    expect(outcome.errors).toEqual([
      { scope: "file", target: "server.key", message: "disk full writing server.key" },
      { scope: "reload", message: "server not reloaded: server.key not written" },
    ]);
  });

  it("keeps a host connected when its new client-config file could not be written", async () => {
    const { deps, log } = fakes(["ccd/db-1"]);
    const outcome = await applyActions(
      [write("ccd/db-1"), { kind: "kill-session", commonName: "db-1", clientId: 4, because: "client-config-changed" }],
      deps,
    );
    expect(log).toEqual([]);
    expect(outcome.errors.map((e) => e.scope)).toEqual(["file", "session"]);
  });

  it("reports a reload it cannot do while the management interface is down", async () => {
    const { deps } = fakes();
    const outcome = await applyActions([{ kind: "reload-server", because: ["server.conf"] }], {
      ...deps,
      server: undefined,
    });
    expect(outcome.errors).toEqual([
      { scope: "reload", message: "server not reloaded: management interface not connected" },
    ]);
  });

  it("turns route failures into errors, the guard's as scope guard", async () => {
    const { deps } = fakes();
    const outcome = await applyActions([{ kind: "apply-routes", routes: [], verifiedFullSnapshot: false }], {
      ...deps,
      routes: {
        apply: async () => ({
          applied: [],
          failed: [
            { destination: "0.0.0.0/0", reason: "guard", message: "would withdraw 9 of 10" },
            { destination: "10.0.0.5/32", reason: "kernel", message: "Cannot find device" },
          ],
          added: 0,
          removed: 0,
          routeCommands: 0,
          reads: 1,
        }),
      },
    });
    expect(outcome.errors.map((e) => [e.scope, e.target])).toEqual([
      ["guard", "0.0.0.0/0"],
      ["route", "10.0.0.5/32"],
    ]);
  });
});

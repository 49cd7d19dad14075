import { afterAll, beforeAll, expect, it } from "vitest";
import { apiClient, networkBody } from "../support/api-client.ts";
import { type LiveApi, startLiveApi } from "../support/live-api.ts";
import { defaultTokens, seedToken } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";
import { bearer, type LiveConsole, openConsole } from "./live-console.ts";

describeEachDatabase("the live feed of committed changes, per role", (kind: DatabaseKind) => {
  let live: LiveApi;
  let networkId: string;
  type Role = "admin" | "viewer" | "auditor" | "operator";
  const consoles = {} as Record<Role, LiveConsole>;
  /** Each console's position now: they receive different frames, so each needs its own. */
  const marks = () =>
    Object.fromEntries(Object.entries(consoles).map(([role, console]) => [role, console.mark()])) as Record<
      Role,
      number
    >;

  beforeAll(async () => {
    live = await startLiveApi(kind);
    networkId = (await live.api.post("/api/networks", networkBody())).body.id;
    consoles.admin = await openConsole(live, bearer(defaultTokens.get(live.app) as string));
    for (const role of ["viewer", "auditor", "operator"] as const) {
      consoles[role] = await openConsole(live, bearer(await seedToken(live.db, role)));
    }
    for (const console of Object.values(consoles)) await console.next("welcome");
  });
  afterAll(async () => {
    for (const console of Object.values(consoles)) console.close();
    await live.close();
    for (const console of Object.values(consoles)) expect(console.invalid()).toEqual([]);
  });

  it("tells every console about a host created over REST, once it is committed", async () => {
    const from = consoles.admin.mark();
    const created = await live.api.post("/api/hosts", { networkId, commonName: "web-1" });
    expect(created.status).toBe(201);
    const message = await consoles.admin.next("changed", (m) => m.action === "host.create", from);
    expect(message).toMatchObject({ resource: "hosts", id: created.body.id, networkId, actor: "token:test-admin" });
    // Sent after the commit: another connection sees the row.
    expect(await live.db.prisma.host.findUnique({ where: { id: created.body.id } })).not.toBeNull();
    for (const role of ["viewer", "operator", "auditor"] as const) {
      await consoles[role].next("changed", (m) => m.action === "host.create" && m.id === created.body.id);
    }
  });

  it("sends nothing for a change the API refuses (409, 400, 404)", async () => {
    const from = consoles.admin.mark();
    expect((await live.api.post("/api/hosts", { networkId, commonName: "web-1" })).status).toBe(409);
    expect((await live.api.post("/api/hosts", { networkId, commonName: "bad name!" })).status).toBe(400);
    const clash = await live.api.post("/api/hosts/import", {
      networkId,
      hosts: [{ commonName: "fine" }, { commonName: "web-1" }],
    });
    expect(clash.status).toBe(400);
    const missing = "00000000-0000-4000-8000-000000000000";
    expect((await live.api.patch(`/api/hosts/${missing}`, { description: "x" })).status).toBe(404);
    // A change that goes through afterwards is the only one told.
    const host = (await live.api.get(`/api/hosts?networkId=${networkId}`)).body.items[0];
    expect((await live.api.patch(`/api/hosts/${host.id}`, { description: "marker" })).status).toBe(200);
    await consoles.admin.next("changed", (m) => m.action === "host.update", from);
    expect(consoles.admin.since("changed", from).map((m) => m.action)).toEqual(["host.update"]);
  });

  it("tells a deletion to every list it changes, with the network the row was in", async () => {
    const host = (await live.api.post("/api/hosts", { networkId, commonName: "gone-1" })).body;
    await consoles.viewer.next("changed", (m) => m.action === "host.create" && m.id === host.id);
    const from = consoles.viewer.mark();
    expect((await live.api.delete(`/api/hosts/${host.id}`)).status).toBe(204);
    await consoles.viewer.next("changed", (m) => m.resource === "certificates", from);
    expect(consoles.viewer.since("changed", from)).toEqual([
      expect.objectContaining({ resource: "hosts", id: host.id, networkId, action: "host.delete" }),
      expect.objectContaining({ resource: "certificates", id: null, networkId, action: "host.delete" }),
    ]);
  });

  it("gives each role only what it could read over REST: no actor without the audit grant, users only to admins", async () => {
    const from = marks();
    const user = await live.api.post("/api/users", {
      username: "alice",
      password: "a long enough password",
      role: "viewer",
    });
    expect(user.status).toBe(201);
    const marker = (await live.api.post("/api/hosts", { networkId, commonName: "marker-1" })).body;
    const seen = async (role: Role) => {
      await consoles[role].next("changed", (m) => m.id === marker.id, from[role]);
      return consoles[role].since("changed", from[role]).map((m) => [m.resource, m.action, m.id, m.actor]);
    };
    expect(await seen("admin")).toEqual([
      ["users", "user.create", user.body.id, "token:test-admin"],
      ["hosts", "host.create", marker.id, "token:test-admin"],
    ]);
    // Auditors read the audit log, not the users: the change reaches them as an audit entry.
    expect(await seen("auditor")).toEqual([
      ["audit", "user.create", null, "token:test-admin"],
      ["hosts", "host.create", marker.id, "token:test-admin"],
    ]);
    for (const role of ["viewer", "operator"] as const) {
      expect(await seen(role)).toEqual([["hosts", "host.create", marker.id, null]]);
    }
  });

  it("tells sign-ins only to the roles that read the audit log", async () => {
    const from = marks();
    const failed = await apiClient(live.app, null).post("/api/session", {
      username: "alice",
      password: "wrong password!",
    });
    expect(failed.status).toBe(401);
    const marker = (await live.api.post("/api/hosts", { networkId, commonName: "marker-2" })).body;
    for (const role of ["admin", "auditor"] as const) {
      await consoles[role].next("changed", (m) => m.id === marker.id, from[role]);
      expect(consoles[role].since("changed", from[role])[0]).toMatchObject({
        resource: "audit",
        action: "session.login-failed",
        id: null,
        networkId: null,
      });
    }
    await consoles.viewer.next("changed", (m) => m.id === marker.id, from.viewer);
    expect(consoles.viewer.since("changed", from.viewer).map((m) => m.action)).toEqual(["host.create"]);
  });
});

import { hash } from "@node-rs/argon2";
import { openRawSocket } from "@switchboard/testkit/agent/raw-socket";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient } from "../support/api-client.ts";
import { type LiveApi, startLiveApi } from "../support/live-api.ts";
import { seedToken } from "../support/test-app.ts";
import { patiently } from "../support/waits.ts";
import { bearer, liveUrl, openConsole } from "./live-console.ts";

const PASSWORD = "correct horse battery staple";
const WAIT = patiently.timeout;

describe("the console's live feed: who may open it, and how it ends [pglite]", () => {
  let live: LiveApi;
  let viewer: string;
  const origin = () => ({ origin: live.url });

  beforeAll(async () => {
    // A heartbeat of 1 s, not less: with the test's own client in this process, a busy machine
    // stalls the loop long enough to miss a tighter one and drop a healthy console (1006).
    live = await startLiveApi("pglite", {}, { heartbeatMs: 1000, recheckMs: 200 });
    viewer = await seedToken(live.db, "viewer");
  });
  afterAll(() => live.close());

  async function signIn(username: string) {
    await live.db.prisma.user.create({
      data: { username, role: "operator", passwordHash: await hash(PASSWORD, { algorithm: 2 }) },
    });
    const response = await live.app.inject({
      method: "POST",
      url: "/api/session",
      payload: { username, password: PASSWORD },
    });
    expect(response.statusCode).toBe(201);
    const cookie = `sb_session=${/sb_session=([^;]+)/.exec(String(response.headers["set-cookie"]))?.[1]}`;
    return { cookie, csrf: response.json().csrfToken as string };
  }

  it("refuses the upgrade without credentials, or with a wrong token (401)", async () => {
    await expect(openRawSocket(liveUrl(live), {})).rejects.toThrow(/401/);
    await expect(openRawSocket(liveUrl(live), bearer(`sbt_${"x".repeat(43)}`))).rejects.toThrow(/401/);
    await expect(openRawSocket(liveUrl(live), { cookie: "sb_session=not-a-session" })).rejects.toThrow(/401/);
  });

  it("refuses a page of another origin (403), and welcomes the console's own origin or a script without one", async () => {
    await expect(openRawSocket(liveUrl(live), { ...bearer(viewer), origin: "https://evil.example" })).rejects.toThrow(
      /403/,
    );
    await expect(openRawSocket(liveUrl(live), { ...bearer(viewer), origin: "null" })).rejects.toThrow(/403/);
    for (const headers of [{ ...bearer(viewer), ...origin() }, bearer(viewer)]) {
      const opened = Date.now();
      const console = await openConsole(live, headers);
      const welcome = await console.next("welcome");
      // The server's clock at the welcome: between opening and reading it (same machine, same clock).
      expect(Date.parse(welcome.serverTime)).toBeGreaterThanOrEqual(opened);
      expect(Date.parse(welcome.serverTime)).toBeLessThanOrEqual(Date.now());
      console.close();
    }
  });

  it("takes the console's session cookie, and closes the feed when the user signs out", async () => {
    const { cookie, csrf } = await signIn("olivia");
    const console = await openConsole(live, { cookie, ...origin() });
    await console.next("welcome");
    const out = await live.app.inject({
      method: "DELETE",
      url: "/api/session",
      headers: { cookie, "x-csrf-token": csrf },
    });
    expect(out.statusCode).toBe(204);
    expect((await console.raw.waitClosed(WAIT)).code).toBe(4401);
  });

  it("closes the feed of a user who is disabled, and of a token that is revoked", async () => {
    const { cookie } = await signIn("dan");
    const user = await openConsole(live, { cookie, ...origin() });
    const token = await openConsole(live, bearer(await seedToken(live.db, "viewer", "revoked-soon")));
    await user.next("welcome");
    await token.next("welcome");
    const dan = await live.db.prisma.user.findUniqueOrThrow({ where: { username: "dan" } });
    expect((await live.api.patch(`/api/users/${dan.id}`, { disabled: true })).status).toBe(200);
    expect((await user.raw.waitClosed(WAIT)).code).toBe(4401);

    // Revoked elsewhere (straight in the database, as another instance would): the timer finds it.
    await live.db.prisma.apiToken.updateMany({ where: { name: "revoked-soon" }, data: { revokedAt: new Date() } });
    expect((await token.raw.waitClosed(WAIT)).code).toBe(4401);
  });

  it("ignores a short text frame, closes on binary or oversized frames, and the API carries on", async () => {
    const chatty = await openConsole(live, bearer(viewer));
    await chatty.next("welcome");
    chatty.raw.socket.send("not json at all");
    chatty.raw.socket.send('{"type":"subscribe"}');
    // Frames are handled in order: closing for the binary one (1003) means the text ones closed nothing.
    chatty.raw.socket.send(Buffer.from([0, 1, 2, 3]));
    expect((await chatty.raw.waitClosed(WAIT)).code).toBe(1003);

    const flooding = await openConsole(live, bearer(viewer));
    await flooding.next("welcome");
    flooding.raw.socket.send("x".repeat(100_000));
    expect((await flooding.raw.waitClosed(WAIT)).code).toBe(1009);

    expect((await apiClient(live.app, viewer).get("/api/networks")).status).toBe(200);
    const after = await openConsole(live, bearer(viewer));
    await after.next("welcome");
    after.close();
  });

  it("refuses a frame that announces more than a console may send as soon as its header arrives", async () => {
    // Attack: a 30 MiB frame trickled in would be buffered whole (the agents' 32 MiB limit) before
    // any check. Only the header and 1 KiB of body are sent: the close must not wait for the rest.
    const greedy = await openConsole(live, bearer(viewer));
    await greedy.next("welcome");
    const tcp = (greedy.raw.socket as unknown as { _socket: import("node:net").Socket })._socket;
    const header = Buffer.alloc(14);
    header[0] = 0x81; // FIN, text
    header[1] = 0x80 | 127; // masked, 64-bit length follows
    header.writeBigUInt64BE(BigInt(30 * 1024 * 1024), 2);
    header.writeUInt32BE(0x01020304, 10); // the mask
    tcp.write(Buffer.concat([header, Buffer.alloc(1024, 0x55)]));
    expect((await greedy.raw.waitClosed(WAIT)).code).toBe(1009);
  });

  it("drops a console that stops answering pings", async () => {
    const deaf = await openRawSocket(liveUrl(live), bearer(viewer), { autoPong: false });
    const closed = await deaf.waitClosed(WAIT);
    expect(closed.code).toBe(1006);
  });

  it("keeps a console that answers pings open across many heartbeats", async () => {
    const console = await openConsole(live, bearer(viewer));
    let pings = 0;
    console.raw.socket.on("ping", () => {
      pings += 1;
    });
    // Each ping after the first means the server found the previous one answered.
    await expect.poll(() => pings, { ...patiently, message: "heartbeats" }).toBeGreaterThanOrEqual(4);
    expect(console.raw.closed).toBeUndefined();
    console.close();
  });
});

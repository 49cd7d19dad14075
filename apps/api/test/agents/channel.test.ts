import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { openRawSocket } from "@switchboard/testkit/agent/raw-socket";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Agent } from "../../../agent/src/agent.ts";
import { ChannelClient, channelUrl } from "../../../agent/src/channel/channel-client.ts";
import { loadCredential } from "../../../agent/src/channel/credential-file.ts";
import { enroll } from "../../../agent/src/channel/enroll.ts";
import { enrollmentToken, type LiveApi, networkWithSwitches, startLiveApi } from "../support/live-api.ts";
import { patiently } from "../support/waits.ts";

describe("agent channel over a real websocket [pglite]", () => {
  let live: LiveApi;
  let switchId: string;
  let credential: string;
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-channel-"));
    dirs.push(dir);
    return dir;
  };
  const hello = (id = switchId, protocolVersion = 1) =>
    JSON.stringify({ type: "hello", protocolVersion, agentVersion: "raw", switchId: id, revision: null });
  const auth = () => ({ authorization: `Bearer ${credential}` });
  const status = async () => (await live.api.get(`/api/switches/${switchId}/status`)).body;
  const WAIT = patiently.timeout;

  beforeAll(async () => {
    live = await startLiveApi("pglite", { channel: { heartbeatMs: 200, helloTimeoutMs: 1000 } });
    [switchId] = (await networkWithSwitches(live.api, 2)).switches as [string];
    const stateDir = tempDir();
    const { path, file } = await enroll({
      api: live.url,
      token: await enrollmentToken(live.api, switchId),
      stateDir,
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await loadCredential(stateDir)).credential).toBe(file.credential);
    credential = file.credential;
  });
  afterAll(async () => {
    await live.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("connects an enrolled agent, which says hello and shows up online with its version", async () => {
    let channel: ChannelClient | undefined;
    const agent = new Agent({
      baseDir: tempDir(),
      switchId,
      agentVersion: "9.9.9-test",
      send: (message) => channel?.send(message),
      runner: new FakeIp(),
      statusIntervalMs: 60_000,
      reconcileIntervalMs: 60_000,
    });
    channel = new ChannelClient({ api: live.url, credential, peer: agent, backoff: { baseMs: 20, capMs: 100 } });
    channel.start();
    try {
      await vi.waitFor(() => expect(channel.connected, "the welcome").toBe(true), patiently);
      await expect.poll(status, { ...patiently, message: "online status" }).toMatchObject({ online: true });
      expect(await status()).toMatchObject({
        online: true,
        agentVersion: "9.9.9-test",
        enrolled: true,
      });
    } finally {
      await channel.stop();
      await agent.stop();
    }
    await expect.poll(status, { ...patiently, message: "offline status" }).toMatchObject({ online: false });
  });

  it("enrolls through the CLI (`switchboard-agent enroll`), which stores the credential 0600", async () => {
    const [other] = (await networkWithSwitches(live.api, 1)).switches as [string];
    const stateDir = tempDir();
    const main = fileURLToPath(new URL("../../../agent/src/main.ts", import.meta.url));
    const token = await enrollmentToken(live.api, other);
    const { stdout } = await promisify(execFile)(process.execPath, [
      ...["--import", "tsx", main, "enroll", "--api", live.url, "--token", token, "--state-dir", stateDir],
    ]);
    expect(stdout).toContain(`enrolled switch ${other}`);
    const file = join(stateDir, "agent.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ api: live.url, switchId: other });
  });

  it("refuses the upgrade with 401 for a wrong or missing credential", async () => {
    const url = channelUrl(live.url);
    await expect(openRawSocket(url, { authorization: `Bearer sba_${"x".repeat(43)}` })).rejects.toThrow(/401/);
    await expect(openRawSocket(url, {})).rejects.toThrow(/401/);
  });

  it("answers a malformed message with a protocol error and keeps the channel", async () => {
    const raw = await openRawSocket(channelUrl(live.url), auth());
    raw.socket.send(hello());
    await raw.next((f) => f.type === "welcome", WAIT);
    raw.socket.send('{"type":"ack","revision":"lots"}');
    raw.socket.send("not json at all");
    raw.socket.send(JSON.stringify({ type: "launch-missiles" }));
    // A second hello is refused too, without a close: an answer to it means the channel outlived the three.
    raw.socket.send(hello());
    await raw.next((f) => f.type === "error" && String(f.message).includes("hello sent twice"), WAIT);
    const errors = raw.received.filter((f) => f.type === "error");
    expect(errors.map((f) => f.code)).toEqual(["malformed", "malformed", "malformed", "malformed"]);
    expect(raw.closed).toBeUndefined();
    raw.socket.close();
    expect((await live.api.get("/api/networks")).status).toBe(200);
  });

  it("closes a channel whose first message is not a valid hello, or that speaks another protocol version", async () => {
    const early = await openRawSocket(channelUrl(live.url), auth());
    early.socket.send(JSON.stringify({ type: "sessions", events: [] }));
    expect((await early.waitClosed(WAIT)).code).toBe(4400);

    const other = await openRawSocket(channelUrl(live.url), auth());
    other.socket.send(hello(switchId, 2));
    expect(await other.next((f) => f.type === "error", WAIT)).toMatchObject({ code: "unsupported-version" });
    expect((await other.waitClosed(WAIT)).code).toBe(4426);

    const impostor = await openRawSocket(channelUrl(live.url), auth());
    impostor.socket.send(hello("another-switch"));
    expect((await impostor.waitClosed(WAIT)).code).toBe(4401);

    const silent = await openRawSocket(channelUrl(live.url), auth());
    expect((await silent.waitClosed(WAIT)).code).toBe(4400);
  });

  it("drops a peer that stops answering pings", async () => {
    const deaf = await openRawSocket(channelUrl(live.url), auth(), { autoPong: false });
    deaf.socket.send(hello());
    await deaf.next((f) => f.type === "welcome", WAIT);
    const closed = await deaf.waitClosed(WAIT);
    expect(closed.code).toBe(1006);
  });

  it("ends the channel when the credential is revoked, and refuses it afterwards", async () => {
    const raw = await openRawSocket(channelUrl(live.url), auth());
    raw.socket.send(hello());
    await raw.next((f) => f.type === "welcome", WAIT);
    expect((await live.api.delete(`/api/switches/${switchId}/agent-credential`)).status).toBe(204);
    expect((await raw.waitClosed(WAIT)).code).toBe(4401);
    await expect(openRawSocket(channelUrl(live.url), auth())).rejects.toThrow(/401/);
  });
});

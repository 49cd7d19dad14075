import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "@switchboard/agent/src/agent.ts";
import { ChannelClient } from "@switchboard/agent/src/channel/channel-client.ts";
import { type CommandRunner, spawnRunner } from "@switchboard/agent/src/system/command-runner.ts";
import { FakeIp } from "./fake-ip.ts";

/** Every device exists in this fake kernel, so routes over any backbone link apply. */
const ANY_DEVICE = { has: () => true } as unknown as Set<string>;

export interface TestAgent {
  readonly agent: Agent;
  readonly channel: ChannelClient;
  readonly ip: FakeIp;
  readonly baseDir: string;
  /** Stops the channel and the agent; files and fake routes stay (like a real agent's). */
  stop(): Promise<void>;
  /** stop(), then removes the base directory. */
  destroy(): Promise<void>;
}

/**
 * A real Agent object with its real channel to an API, on a temp directory, with `ip` going to a
 * fake kernel (everything else, e.g. mkfifo, runs for real in the temp directory).
 */
export async function startTestAgent(options: {
  api: string;
  /** More API instances the channel fails over to. */
  otherApis?: readonly string[];
  credential: string;
  switchId: string;
  baseDir?: string;
  ip?: FakeIp;
  start?: boolean;
}): Promise<TestAgent> {
  const baseDir = options.baseDir ?? mkdtempSync(join(tmpdir(), "sb-test-agent-"));
  const ip = options.ip ?? new FakeIp(ANY_DEVICE);
  const real = spawnRunner();
  const runner: CommandRunner = {
    run: (file, args, input) => (file === "ip" ? ip.run(file, args, input) : real.run(file, args, input)),
  };
  let channel: ChannelClient | undefined;
  const agent = new Agent({
    baseDir,
    switchId: options.switchId,
    agentVersion: "0.1.0-test",
    apiHost: new URL(options.api).hostname,
    send: (message) => channel?.send(message),
    runner,
    statusIntervalMs: 60_000,
    reconcileIntervalMs: 60_000,
  });
  channel = new ChannelClient({
    api: options.api,
    ...(options.otherApis ? { otherApis: options.otherApis } : {}),
    credential: options.credential,
    peer: agent,
    backoff: { baseMs: 50, capMs: 500 },
  });
  if (options.start !== false) await agent.start();
  channel.start();
  const client = channel;
  const stop = async () => {
    await client.stop();
    await agent.stop();
  };
  return {
    agent,
    channel: client,
    ip,
    baseDir,
    stop,
    destroy: async () => {
      await stop();
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

export { ANY_DEVICE };

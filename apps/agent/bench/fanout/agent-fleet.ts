import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type AgentToApiMessage, switchPaths } from "@switchboard/shared";
import { MapKernel } from "@switchboard/testkit/agent/map-kernel";
import { Agent } from "../../src/agent.ts";
import { ChannelClient } from "../../src/channel/channel-client.ts";
import { HOOK_FIFO } from "../../src/reconcile/layout.ts";
import { type CommandRunner, spawnRunner } from "../../src/system/command-runner.ts";
import { FakeOpenVpn } from "./fake-openvpn.ts";
import { epochNow } from "./route-watch.ts";

/** One switch of the storm: the real Agent and channel client, a fake kernel and a fake OpenVPN. */
export interface FleetAgent {
  readonly index: number;
  readonly switchId: string;
  readonly baseDir: string;
  readonly fifo: string;
  readonly agent: Agent;
  readonly channel: ChannelClient;
  readonly kernel: MapKernel;
  readonly openvpn: FakeOpenVpn;
  /** Epoch ms of the first ack of a full desired state (its files written, its routes applied), once it came. */
  snapshotAckedAt: number | undefined;
  /** Acks that reported errors (the first kept for the report). */
  failedAcks: number;
  firstError: string | undefined;
}

/**
 * Starts the real agent of one switch on `baseDir` (real files, real reconcile, real hook FIFO,
 * real websocket to the API with its credential), with `ip` answered by a MapKernel that hands
 * every batch to `onBatch`, and status 3 by a FakeOpenVpn. Other commands (mkfifo, getent) run
 * for real. The agent keeps its production timers: status 3 every 2 s, full reconcile every 30 s.
 */
export async function startFleetAgent(options: {
  index: number;
  switchId: string;
  baseDir: string;
  api: string;
  /** The other API instances, for the channel to fail over to. */
  otherApis?: readonly string[];
  credential: string;
  onBatch: (index: number, lines: readonly string[], at: number) => void;
}): Promise<FleetAgent> {
  const { index, baseDir } = options;
  await mkdir(baseDir, { recursive: true, mode: 0o755 });
  const kernel = new MapKernel({
    onBatch: (lines) => options.onBatch(index, lines, epochNow()),
    uplink: { gateway: "198.18.0.1", dev: "eth0" },
  });
  const real = spawnRunner();
  const runner: CommandRunner = {
    run: (file, args, input) => (file === "ip" ? kernel.run(file, args, input) : real.run(file, args, input)),
  };
  const openvpn = new FakeOpenVpn();
  await openvpn.start(switchPaths(baseDir).managementSocket);
  let channel: ChannelClient | undefined;
  const fleetAgent: { -readonly [K in keyof FleetAgent]: FleetAgent[K] } = {
    index,
    switchId: options.switchId,
    baseDir,
    fifo: join(baseDir, HOOK_FIFO),
    agent: undefined as unknown as Agent,
    channel: undefined as unknown as ChannelClient,
    kernel,
    openvpn,
    snapshotAckedAt: undefined,
    failedAcks: 0,
    firstError: undefined,
  };
  let awaitingSnapshot = true;
  const send = (message: AgentToApiMessage) => {
    if (message.type === "ack") {
      if (!message.ok) {
        fleetAgent.failedAcks += 1;
        fleetAgent.firstError ??= JSON.stringify(message.errors[0] ?? message);
      } else if (awaitingSnapshot && message.revision !== null) {
        awaitingSnapshot = false;
        fleetAgent.snapshotAckedAt = epochNow();
      }
    }
    channel?.send(message);
  };
  const agent = new Agent({
    baseDir,
    switchId: options.switchId,
    agentVersion: "0.1.0-bench",
    apiHost: new URL(options.api).hostname,
    send,
    runner,
  });
  channel = new ChannelClient({
    api: options.api,
    ...(options.otherApis ? { otherApis: options.otherApis } : {}),
    credential: options.credential,
    peer: agent,
  });
  fleetAgent.agent = agent;
  fleetAgent.channel = channel;
  await agent.start();
  channel.start();
  return fleetAgent;
}

export async function stopFleetAgent(fleetAgent: FleetAgent): Promise<void> {
  await fleetAgent.channel.stop();
  await fleetAgent.agent.stop();
  await fleetAgent.openvpn.close();
}

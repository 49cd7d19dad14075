import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type AgentToApiMessage,
  type DesiredState,
  renderClientConfigFile,
  renderSwitchServerConfig,
  serverDeviceName,
  switchPaths,
} from "@switchboard/shared";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { OPENVPN } from "@switchboard/testkit/env";
import { Agent } from "../../src/agent.ts";
import { type CommandRunner, spawnRunner } from "../../src/system/command-runner.ts";
import { type Lab, labNetwork, labSwitch } from "./lab.ts";

/**
 * The real agent in managed mode on a lab (lab.ts): it writes the files a desired state holds
 * and runs the lab switch's OpenVPN server itself, inside the lab's namespace, from configs the
 * shared renderer made for the agent's own folder. Routes go to a fake kernel.
 */

export interface ManagedLab {
  readonly agent: Agent;
  readonly baseDir: string;
  readonly sent: AgentToApiMessage[];
  /** Every OpenVPN process the agent started, in order. */
  readonly started: ChildProcess[];
  /** The OpenVPN log of every process the agent started (appended). */
  log(): string;
  /** Revision 1: the lab switch, its PKI and a ccd file per lab host. */
  readonly state: DesiredState;
}

export async function startManagedAgent(lab: Lab): Promise<ManagedLab> {
  const pki = (name: string) => readFileSync(join(lab.dir, "pki", name), "utf8");
  const baseDir = join(lab.dir, "agent");
  const logFile = join(lab.dir, "agent-openvpn.log");
  const state: DesiredState = {
    type: "desired-state",
    switchId: labSwitch.id,
    revision: 1,
    serverDevice: serverDeviceName(labNetwork),
    server: {
      serverConfig: renderSwitchServerConfig(labNetwork, labSwitch, [labSwitch], switchPaths(baseDir)),
      caCert: pki("ca.crt"),
      serverCert: pki("server.crt"),
      serverKey: pki("server.key"),
      crl: pki("crl.pem"),
      tlsCryptKey: pki("tls-crypt.key"),
      // No links here; the file must exist all the same.
      backboneTlsCryptKey: pki("tls-crypt.key"),
      backboneCert: pki("server.crt"),
      backboneKey: pki("server.key"),
    },
    links: [],
    hosts: lab.hosts.map((host) => ({
      commonName: host.commonName,
      address: host.address,
      subnets: [],
      clientConfig: renderClientConfigFile(labNetwork, host, [labSwitch]) ?? null,
    })),
    routes: [],
    routeCount: 0,
  };
  const started: ChildProcess[] = [];
  const real = spawnRunner();
  const ip = new FakeIp(new Set());
  const runner: CommandRunner = {
    run: (file, args, input) => (file === "ip" ? ip.run(file, args, input) : real.run(file, args, input)),
  };
  const sent: AgentToApiMessage[] = [];
  const agent = new Agent({
    baseDir,
    switchId: labSwitch.id,
    agentVersion: "test",
    send: (message) => sent.push(message),
    runner,
    // Sessions must come from the hook and the management interface, not from a status poll.
    statusIntervalMs: 3_600_000,
    reconcileIntervalMs: 3_600_000,
    openvpn: {
      mode: "managed",
      binary: OPENVPN,
      spawn: (command, args) => {
        const child = spawn("ip", ["netns", "exec", lab.netns, command, ...args, "--log-append", logFile], {
          stdio: "ignore",
        });
        started.push(child);
        return child;
      },
    },
  });
  await agent.start();
  return {
    agent,
    baseDir,
    sent,
    started,
    state,
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
  };
}

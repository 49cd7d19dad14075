import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  backboneLinkPaths,
  DEFAULT_AGENT_DIR,
  type DesiredHost,
  networkTag,
  type RenderNetwork,
  type RenderPaths,
  switchPaths,
} from "@switchboard/shared";
import { OPENVPN } from "@switchboard/testkit/env";
import type { SwitchParts } from "../../src/features/agents/state/desired-state.ts";

/**
 * Runs rendered configs under a real OpenVPN 2.6, each in a throwaway network and PID namespace
 * (`unshare --net --pid --kill-child`, as root), so tun devices, ports and sockets never touch
 * the machine and the process dies with its namespace.
 *
 * "Gets through" means OpenVPN parsed and verified every option, loaded the keys and certificates
 * and went on to the network: a server finishes its initialisation; a backbone end or a client
 * profile, which have no peer here, binds its socket, dials, or tries to resolve its remote.
 */

const SERVER_READY = /Initialization Sequence Completed/;
const PEER_READY =
  /Initialization Sequence Completed|UDP(?:v4|v6)? link local|Listening for incoming TCP connection|Attempting to establish TCP connection|RESOLVE: Cannot resolve host address/;
const FAILED = /Options error|Exiting due to fatal error|Cannot load|Cannot open TUN|Use --help for more information/;

export interface RunResult {
  readonly reached: boolean;
  readonly log: string;
}

/** Starts OpenVPN on `configPath`, waits for `ready` (or a failure, its exit, or `deadlineMs`), stops it. */
export function runOpenvpn(configPath: string, ready: RegExp, deadlineMs = 30_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(
      "unshare",
      ["--net", "--pid", "--fork", "--kill-child", OPENVPN, "--config", configPath, "--verb", "3"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let log = "";
    let settled = false;
    const finish = (reached: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (child.exitCode === null) child.kill("SIGTERM");
      resolve({ reached, log });
    };
    const deadline = setTimeout(() => finish(false), deadlineMs);
    const read = (chunk: Buffer) => {
      log += chunk.toString("utf8");
      if (FAILED.test(log)) finish(false);
      else if (ready.test(log)) finish(true);
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", () => finish(ready.test(log) && !FAILED.test(log)));
  });
}

export const readyFor = { server: SERVER_READY, peer: PEER_READY };

/**
 * A switch's directory as the agent writes it (the same shared layout), under a short temporary
 * base: the rendered configs name `DEFAULT_AGENT_DIR/<tag>`, which is rewritten to that base.
 */
export function writeSwitchDir(network: RenderNetwork, parts: SwitchParts, hosts: readonly DesiredHost[]) {
  const base = mkdtempSync("/tmp/sbov-");
  const paths = switchPaths(base);
  const rewrite = (config: string) => config.replaceAll(`${DEFAULT_AGENT_DIR}/${networkTag(network)}`, base);
  const write = (path: string, text: string, mode = 0o600) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { mode });
  };
  for (const [name, content] of Object.entries(parts.server)) {
    const path = (paths as unknown as Record<string, string | undefined>)[name];
    if (path === undefined) throw new Error(`the shared layout has no path for the server file ${name}`);
    write(path, name === "serverConfig" ? rewrite(content) : content);
  }
  mkdirSync(paths.ccdDir, { recursive: true });
  for (const host of hosts)
    if (host.clientConfig !== null) write(`${paths.ccdDir}/${host.commonName}`, host.clientConfig);
  // Runs only when a client connects, which none does here; it must exist and be executable.
  write(paths.hookCommand, "#!/bin/sh\nexit 0\n", 0o755);
  chmodSync(paths.hookCommand, 0o755);
  const links = parts.links.map((link) => {
    const path = backboneLinkPaths(paths, link.peerOffset).config;
    write(path, rewrite(link.config));
    return path;
  });
  return { paths: paths as RenderPaths, links, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

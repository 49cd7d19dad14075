import { parseArgs } from "node:util";
import { DEFAULT_AGENT_DIR } from "@switchboard/shared";
import { Agent, type AgentLogger } from "./agent.ts";
import { ChannelClient } from "./channel/channel-client.ts";
import { loadCredential } from "./channel/credential-file.ts";
import { enroll } from "./channel/enroll.ts";
import { assertSafeTransport } from "./channel/transport-policy.ts";
import { ensureIpForwarding } from "./system/forwarding.ts";
import { AGENT_VERSION } from "./version.ts";

const USAGE = `usage:
  switchboard-agent --version
  switchboard-agent enroll --api URL [--api URL2 ...] --token TOKEN [--state-dir DIR] [--fingerprint SHA256] [--insecure]
  switchboard-agent run [--state-dir DIR] [--base-dir DIR] [--managed] [--openvpn PATH] [--insecure]

  --api        the API's URL; several for several instances of one API (the agent moves to
               the next when its connection drops or the instance shuts down)
  --fingerprint  the SHA-256 the API prints at start (and the console shows): pins its
               self-signed certificate; without it the first certificate seen is pinned
  --insecure   allow a plain http:// API on another machine (credential and keys unencrypted)
  --state-dir  where the credential file lives (default ${DEFAULT_AGENT_DIR})
  --base-dir   where the switch's files go (default: the folder the API names at enrollment)
  --managed    start and supervise the data server and backbone links (default: external,
               OpenVPN runs under systemd and the agent signals it)
  --openvpn    the openvpn program for --managed (default: openvpn on PATH)`;

function logger(): AgentLogger {
  const line = (level: string, message: string) =>
    process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
  return { info: (m) => line("info", m), warn: (m) => line("warn", m) };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Before parseArgs: packaging checks and operators ask it with no other option.
  if (command === "--version" || command === "version") {
    process.stdout.write(`switchboard-agent ${AGENT_VERSION}\n`);
    return 0;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      api: { type: "string", multiple: true },
      token: { type: "string" },
      fingerprint: { type: "string" },
      "state-dir": { type: "string" },
      "base-dir": { type: "string" },
      managed: { type: "boolean" },
      openvpn: { type: "string" },
      insecure: { type: "boolean" },
    },
    strict: true,
  });
  const stateDir = values["state-dir"] ?? DEFAULT_AGENT_DIR;
  const log = logger();

  if (command === "enroll") {
    const [api, ...otherApis] = values.api ?? [];
    if (!api || !values.token) throw new Error(`enroll needs --api and --token\n${USAGE}`);
    const { path, file } = await enroll({
      api,
      otherApis,
      token: values.token,
      stateDir,
      fingerprint: values.fingerprint,
      insecure: values.insecure,
      log,
    });
    process.stdout.write(`enrolled switch ${file.switchId}; credential stored in ${path}\n`);
    return 0;
  }

  if (command === "run") {
    const file = await loadCredential(stateDir);
    const otherApis = file.otherApis ?? [];
    for (const api of [file.api, ...otherApis]) assertSafeTransport(api, values.insecure === true, log.warn);
    let channel: ChannelClient | undefined;
    const agent = new Agent({
      baseDir: values["base-dir"] ?? file.baseDir,
      switchId: file.switchId,
      agentVersion: AGENT_VERSION,
      // No desired state may route the API's address (or the way to it) into a tunnel.
      apiHost: new URL(file.api).hostname,
      otherApiHosts: otherApis.map((api) => new URL(api).hostname),
      send: (message) => channel?.send(message),
      log,
      ...(values.managed
        ? { openvpn: { mode: "managed" as const, ...(values.openvpn ? { binary: values.openvpn } : {}) } }
        : {}),
    });
    channel = new ChannelClient({
      api: file.api,
      otherApis,
      credential: file.credential,
      pin: file.pin,
      peer: agent,
      log,
    });
    await ensureIpForwarding(values.managed ? "managed" : "external", log);
    // Files and routes from the cache first: the switch keeps working while the API is away.
    await agent.start();
    channel.start();
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", resolve);
      process.once("SIGINT", resolve);
    });
    log.info("stopping: files and routes stay as they are");
    await channel.stop();
    await agent.stop();
    return 0;
  }

  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`switchboard-agent: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

import type { DesiredState } from "@switchboard/shared";
import { type ObservedFile, sha256 } from "../../src/files/file-writer.ts";
import { ccdPath, HOOK_PROGRAM, linkConfigPath, SECRET_FILES, SERVER_FILES } from "../../src/reconcile/layout.ts";
import type { PlanDesired, PlanObserved } from "../../src/reconcile/plan.ts";

export const HOOK = "#!/bin/sh\nexit 0\n";

/** The least a server or link config must say to pass the agent's allow-list (config-guard.ts). */
const UNPRIVILEGED = "user nobody\ngroup nogroup\npersist-key\npersist-tun\nmanagement-client-user root\n";

/** Switch A of a two-switch network: two hosts (one with a subnet), one disabled, one link. */
export function desiredState(overrides: Partial<DesiredState> = {}): DesiredState {
  return {
    type: "desired-state",
    switchId: "sw-a",
    revision: 7,
    serverDevice: "sbs-aaaaa",
    server: {
      serverConfig: `mode server\n${UNPRIVILEGED}`,
      caCert: "CA\n",
      serverCert: "CERT\n",
      serverKey: "KEY\n",
      crl: "CRL\n",
      tlsCryptKey: "TC\n",
      backboneTlsCryptKey: "BTC\n",
      backboneCert: "BBCERT\n",
      backboneKey: "BBKEY\n",
    },
    links: [{ peerOffset: 2, config: `dev sbb-aaaaa-2\n${UNPRIVILEGED}` }],
    hosts: [
      {
        commonName: "web-1",
        address: "10.100.100.10",
        subnets: ["192.168.10.0/24"],
        clientConfig: "ifconfig-push 10.100.100.10 255.255.255.0\niroute 192.168.10.0 255.255.255.0\n",
      },
      {
        commonName: "db-1",
        address: "10.100.100.11",
        subnets: [],
        clientConfig: "ifconfig-push 10.100.100.11 255.255.255.0\n",
      },
      { commonName: "old-laptop", address: "10.100.100.12", subnets: [], clientConfig: null },
    ],
    routes: [
      { destination: "10.100.100.2/32", via: "10.200.200.2", dev: "sbb-aaaaa-2" },
      { destination: "10.100.100.10/32", via: "10.200.200.2", dev: "sbb-aaaaa-2" },
      { destination: "192.168.10.0/24", via: "10.200.200.2", dev: "sbb-aaaaa-2" },
    ],
    routeCount: 3,
    ...overrides,
  };
}

export function planDesired(state: DesiredState = desiredState()): PlanDesired {
  return { state, verifiedFullSnapshot: true, hookScript: HOOK };
}

/** What the disk looks like when `state` was fully applied. */
export function inSync(state: DesiredState = desiredState(), sessions: PlanObserved["sessions"] = []): PlanObserved {
  const files = new Map<string, ObservedFile>();
  for (const [name, path] of Object.entries(SERVER_FILES) as [keyof typeof SERVER_FILES, string][]) {
    files.set(path, { sha256: sha256(state.server[name]), mode: SECRET_FILES.has(name) ? 0o600 : 0o644 });
  }
  files.set(HOOK_PROGRAM, { sha256: sha256(HOOK), mode: 0o755 });
  const ccdFiles: string[] = [];
  for (const host of state.hosts) {
    if (host.clientConfig === null) continue;
    files.set(ccdPath(host.commonName), { sha256: sha256(host.clientConfig), mode: 0o644 });
    ccdFiles.push(host.commonName);
  }
  const topFiles = [...Object.values(SERVER_FILES), "client-hook"];
  for (const link of state.links) {
    files.set(linkConfigPath(link.peerOffset), { sha256: sha256(link.config), mode: 0o644 });
    topFiles.push(linkConfigPath(link.peerOffset));
  }
  return { files, ccdFiles, topFiles, sessions };
}

/**
 * `pnpm package`: the release files in dist/ (gitignored).
 *   dist/switchboard-agent_<version>_amd64.deb          the agent executable, its unit, /var/lib/switchboard-agent
 *   dist/switchboard_<version>_amd64.deb                API + console with their own Node, /usr/bin/switchboard
 *   dist/switchboard-agent-<version>-linux-x64.tar.gz   the same trees for non-Debian systems
 *   dist/switchboard-<version>-linux-x64.tar.gz
 * Intermediate files go to dist/build/. Prints each file's size and the build time.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAgentExecutable } from "./lib/agent-executable.ts";
import { buildDeb, packagedAgentUnit } from "./lib/deb.ts";
import { buildServerTree } from "./lib/server-bundle.ts";
import { checkVersion, megabytes, run } from "./lib/steps.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = fileURLToPath(new URL("..", import.meta.url));
const dist = join(repo, "dist");
const work = join(dist, "build");

function versionOf(packageJson: string): string {
  return checkVersion(JSON.parse(readFileSync(join(repo, packageJson), "utf8")).version);
}

const started = Date.now();
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const agentVersion = versionOf("apps/agent/package.json");
const agentExecutable = await buildAgentExecutable(repo, join(work, "agent"));
const agentTree = join(work, "agent-root");
mkdirSync(join(agentTree, "usr/bin"), { recursive: true });
mkdirSync(join(agentTree, "lib/systemd/system"), { recursive: true });
copyFileSync(agentExecutable, join(agentTree, "usr/bin/switchboard-agent"));
chmodSync(join(agentTree, "usr/bin/switchboard-agent"), 0o755);
const agentUnit = packagedAgentUnit(join(repo, "apps/agent/systemd/switchboard-agent.service"));
writeFileSync(join(agentTree, "lib/systemd/system/switchboard-agent.service"), agentUnit);
const agentTarball = join(dist, `switchboard-agent-${agentVersion}-linux-x64.tar.gz`);
run("tar", ["-czf", agentTarball, "--owner=0", "--group=0", "-C", agentTree, "usr", "lib"]);
const agentDeb = buildDeb(
  agentTree,
  {
    name: "switchboard-agent",
    version: agentVersion,
    depends: ["openvpn", "iproute2", "libc6 (>= 2.28)", "libstdc++6"],
    description: "Switchboard agent for an OpenVPN switch (one executable, no Node.js needed)",
    scripts: join(here, "debian/agent"),
  },
  join(dist, `switchboard-agent_${agentVersion}_amd64.deb`),
);

const serverVersion = versionOf("apps/api/package.json");
const serverTree = join(work, "server-root");
await buildServerTree(repo, join(serverTree, "usr/lib/switchboard"));
mkdirSync(join(serverTree, "usr/bin"), { recursive: true });
mkdirSync(join(serverTree, "lib/systemd/system"), { recursive: true });
mkdirSync(join(serverTree, "etc/switchboard"), { recursive: true });
copyFileSync(join(here, "debian/switchboard/switchboard"), join(serverTree, "usr/bin/switchboard"));
chmodSync(join(serverTree, "usr/bin/switchboard"), 0o755);
copyFileSync(
  join(here, "debian/switchboard/switchboard.service"),
  join(serverTree, "lib/systemd/system/switchboard.service"),
);
copyFileSync(join(here, "debian/switchboard/switchboard.env"), join(serverTree, "etc/switchboard/switchboard.env"));
chmodSync(join(serverTree, "etc/switchboard/switchboard.env"), 0o640);
const serverTarball = join(dist, `switchboard-${serverVersion}-linux-x64.tar.gz`);
run("tar", ["-czf", serverTarball, "--owner=0", "--group=0", "-C", serverTree, "usr", "lib", "etc"]);
const serverDeb = buildDeb(
  serverTree,
  {
    name: "switchboard",
    version: serverVersion,
    depends: ["adduser", "libc6 (>= 2.28)", "libstdc++6"],
    description: "Switchboard API and console (with its own Node.js runtime)",
    scripts: join(here, "debian/switchboard"),
    conffiles: ["/etc/switchboard/switchboard.env"],
  },
  join(dist, `switchboard_${serverVersion}_amd64.deb`),
);

for (const file of [agentExecutable, agentDeb, agentTarball, serverDeb, serverTarball]) {
  process.stdout.write(`${file}: ${megabytes(file)}\n`);
}
process.stdout.write(`pnpm package: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

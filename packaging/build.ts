/**
 * `pnpm package`: the release files in dist/ (gitignored).
 *   dist/switchboard-agent-<version>-linux-x64.tar.gz   the agent executable + its systemd unit
 * Intermediate files go to dist/build/. Prints each file's size and the build time.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAgentExecutable } from "./lib/agent-executable.ts";
import { checkVersion, megabytes, run } from "./lib/steps.ts";

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
const agentTarball = join(dist, `switchboard-agent-${agentVersion}-linux-x64.tar.gz`);
run("tar", ["-czf", agentTarball, "-C", join(work, "agent"), "switchboard-agent"]);

for (const file of [agentExecutable, agentTarball]) process.stdout.write(`${file}: ${megabytes(file)}\n`);
process.stdout.write(`pnpm package: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

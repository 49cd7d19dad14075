/**
 * The agent as ONE executable (Node's single executable applications): esbuild bundles
 * apps/agent/src/main.ts and everything it imports into one CommonJS file (Node 20's SEA runs
 * one CommonJS script and can require only built-in modules), node --experimental-sea-config
 * turns it into a blob, and postject injects the blob into a copy of this Node binary. A switch
 * then needs no Node.js, pnpm or checkout.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { run } from "./steps.ts";

/** Node's documented sentinel: postject flips it so the binary looks for the injected blob. */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

export async function buildAgentExecutable(repo: string, workDir: string): Promise<string> {
  mkdirSync(workDir, { recursive: true });
  const bundle = join(workDir, "switchboard-agent.cjs");
  await build({
    entryPoints: [join(repo, "apps/agent/src/main.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // ws's optional native speed-ups: not in the executable, and not even tried (a SEA's require
    // of a non-built-in module prints a warning on every start).
    external: ["bufferutil", "utf-8-validate"],
    define: { "process.env.WS_NO_BUFFER_UTIL": '"1"', "process.env.WS_NO_UTF_8_VALIDATE": '"1"' },
    legalComments: "none",
    logLevel: "warning",
  });
  const blob = join(workDir, "switchboard-agent.blob");
  const seaConfig = join(workDir, "sea-config.json");
  writeFileSync(
    seaConfig,
    JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }),
  );
  run(process.execPath, ["--experimental-sea-config", seaConfig], { cwd: workDir });

  const executable = join(workDir, "switchboard-agent");
  copyFileSync(process.execPath, executable);
  chmodSync(executable, 0o755);
  // This Node carries its debug information (~half its size); the executable does not need it.
  run("strip", ["--strip-debug", executable]);
  run(process.execPath, [
    join(repo, "node_modules/postject/dist/cli.js"),
    executable,
    "NODE_SEA_BLOB",
    blob,
    "--sentinel-fuse",
    SEA_FUSE,
  ]);
  return executable;
}

/** A .deb from a folder tree: DEBIAN/control plus maintainer scripts, built with dpkg-deb (root-owned files). */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./steps.ts";

export interface DebSpec {
  readonly name: string;
  readonly version: string;
  readonly depends: readonly string[];
  readonly description: string;
  /** Folder holding postinst / prerm / postrm. */
  readonly scripts: string;
  readonly conffiles?: readonly string[];
}

/** Installed-Size is in KiB, as dpkg counts it. */
function installedKiB(tree: string): number {
  return Number(run("du", ["-sk", "--exclude=DEBIAN", tree]).split("\t")[0]);
}

export function buildDeb(tree: string, spec: DebSpec, outFile: string): string {
  const control = join(tree, "DEBIAN");
  mkdirSync(control, { recursive: true });
  writeFileSync(
    join(control, "control"),
    [
      `Package: ${spec.name}`,
      `Version: ${spec.version}`,
      "Architecture: amd64",
      "Maintainer: Switchboard <switchboard@localhost>",
      `Installed-Size: ${installedKiB(tree)}`,
      `Depends: ${spec.depends.join(", ")}`,
      "Section: net",
      "Priority: optional",
      `Description: ${spec.description}`,
      "",
    ].join("\n"),
  );
  for (const script of ["postinst", "prerm", "postrm"]) {
    const from = join(spec.scripts, script);
    if (!existsSync(from)) continue;
    copyFileSync(from, join(control, script));
    chmodSync(join(control, script), 0o755);
  }
  if (spec.conffiles) writeFileSync(join(control, "conffiles"), `${spec.conffiles.join("\n")}\n`);
  // gzip, not xz: the server package is ~130 MB unpacked and xz costs minutes on two cores.
  run("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", tree, outFile]);
  return outFile;
}

/** The repository's hardened agent unit, made to run the packaged executable in managed mode. */
export function packagedAgentUnit(repoUnit: string): string {
  const unit = readFileSync(repoUnit, "utf8");
  const body = unit.slice(unit.indexOf("[Unit]"));
  const execStart = "ExecStart=/usr/bin/switchboard-agent run --managed --state-dir /var/lib/switchboard-agent";
  const out = body
    .replace(/^ExecStart=.*$/m, execStart)
    .replace(/^WorkingDirectory=.*\n/m, "")
    .replace(/^Documentation=.*\n/m, "");
  if (!out.includes(execStart)) throw new Error(`${repoUnit}: no ExecStart line to replace`);
  return `# switchboard-agent (package): managed mode, the agent starts and supervises OpenVPN itself.
# Enroll once (switchboard-agent enroll --api URL --token TOKEN), then systemctl enable --now switchboard-agent.
# For external mode (OpenVPN under its own units) drop --managed in an override (systemctl edit).
${out}`;
}

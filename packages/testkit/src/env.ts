import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * What a test may need from the machine, probed once per process, in one place, so every suite
 * that skips says why in the same words and CI (REQUIRE_ALL=1) can refuse to pass without them.
 */
export type Need =
  | "root"
  | "openvpn"
  | "openssl"
  | "easy-rsa"
  | "chromium"
  | "postgresql"
  | "postgresql-server"
  | "netns"
  | "userns";

/** Set by `.ci/run`: a test skipped for a missing environment fails the run instead. */
export const requireAll = process.env.REQUIRE_ALL === "1";

export const OPENVPN = existsSync("/usr/sbin/openvpn") ? "/usr/sbin/openvpn" : "openvpn";
export const EASYRSA = "/usr/share/easy-rsa/easyrsa";

function output(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: "utf8" });
  return result.status === 0 ? `${result.stdout}${result.stderr}` : undefined;
}

/** The first executable called `name` on PATH, like `command -v`. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** Debian's Chromium: CHROMIUM_PATH when set, else `chromium` on PATH. */
export function chromiumPath(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return existsSync(configured) ? configured : undefined;
  return onPath("chromium") ?? onPath("chromium-browser");
}

/** The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, like Debian installs them. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl"))) return bin;
  }
  return undefined;
}

const probes: Record<Need, () => string | undefined> = {
  root: () => (process.getuid?.() === 0 ? undefined : "needs root"),
  openvpn: () => {
    const version = output(OPENVPN, ["--version"]) ?? output("openvpn", ["--version"]);
    if (version === undefined) return "openvpn is not installed (apt-get install openvpn)";
    const match = /OpenVPN (\d+)\.(\d+)/.exec(version);
    if (!match || Number(match[1]) * 100 + Number(match[2]) < 206) return "openvpn is older than 2.6";
    return undefined;
  },
  openssl: () => (output("openssl", ["version"]) === undefined ? "openssl is not installed" : undefined),
  "easy-rsa": () => (existsSync(EASYRSA) ? undefined : `easy-rsa is not installed (${EASYRSA})`),
  chromium: () =>
    chromiumPath() ? undefined : "Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)",
  postgresql: () => (process.env.TEST_DATABASE_URL ? undefined : "TEST_DATABASE_URL is not set (a PostgreSQL server)"),
  // Tests that stop and start a server of their own (fault tests) need its programs, not just a URL.
  "postgresql-server": () =>
    postgresBinDir() ? undefined : "PostgreSQL server programs are missing (apt-get install postgresql)",
  netns: () => (output("ip", ["netns", "list"]) === undefined ? "ip netns is unavailable (iproute2)" : undefined),
  userns: () =>
    output("unshare", ["-rn", "--pid", "--fork", "true"]) === undefined
      ? "no private user and network namespace (unshare -rn --pid fails: util-linux, or user namespaces are off)"
      : undefined,
};

const seen = new Map<Need, string | undefined>();

/** Why the needs cannot be met here ("needs root; openvpn is not installed"), or undefined when they can. */
export function missing(...needs: Need[]): string | undefined {
  const reasons: string[] = [];
  for (const need of needs) {
    if (!seen.has(need)) seen.set(need, probes[need]());
    const reason = seen.get(need);
    if (reason) reasons.push(reason);
  }
  return reasons.length ? reasons.join("; ") : undefined;
}

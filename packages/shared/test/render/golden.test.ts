import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ccdFileName,
  renderBackboneLinkConfigs,
  renderClientConfigFile,
  renderClientProfile,
  renderSwitchServerConfig,
  switchPaths,
} from "../../src/render/index.ts";
import { type Fixture, fakePem, fakeTlsCryptKey, fixtures } from "./fixtures.ts";

/**
 * Byte-for-byte comparisons with files under golden/. After an intended change, rewrite them with
 *   UPDATE_GOLDEN=1 pnpm exec vitest run packages/shared/test/render/golden.test.ts
 * and review the diff like code.
 */

const GOLDEN_DIR = fileURLToPath(new URL("./golden/", import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const BASE = "/var/lib/switchboard-agent";

function render(fixture: Fixture): Map<string, string> {
  const { network, switches, hosts } = fixture;
  const out = new Map<string, string>();
  const paths = switchPaths(`${BASE}/${network.name}`);
  for (const sw of switches) {
    out.set(`server-${sw.name}.conf`, renderSwitchServerConfig(network, sw, switches, paths));
  }
  for (const host of hosts) {
    const file = renderClientConfigFile(network, host, switches);
    if (file !== undefined) out.set(`ccd-${ccdFileName(host)}`, file);
  }
  switches.forEach((a, i) => {
    for (const b of switches.slice(i + 1)) {
      const link = renderBackboneLinkConfigs(network, a, b, paths);
      out.set(`backbone-${a.name}-to-${b.name}.conf`, link.a.config);
      out.set(`backbone-${b.name}-to-${a.name}.conf`, link.b.config);
    }
  });
  hosts.forEach((host, i) => {
    // The first host gets the full set of secrets, the others only what exists before the PKI issue.
    const secrets =
      i === 0
        ? {
            caPem: fakePem("CERTIFICATE", `${network.name} ca`),
            certPem: fakePem("CERTIFICATE", host.commonName),
            keyPem: fakePem("PRIVATE KEY", host.commonName),
            tlsCryptKey: fakeTlsCryptKey(network.name.length),
          }
        : { caPem: fakePem("CERTIFICATE", `${network.name} ca`) };
    out.set(`profile-${host.commonName}.ovpn`, renderClientProfile(network, host, switches, secrets));
  });
  return new Map([...out].map(([file, text]) => [`${fixture.name}/${file}`, text]));
}

const rendered = new Map(fixtures.flatMap((fixture) => [...render(fixture)]));

function listGolden(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listGolden(join(dir, entry.name)) : [relative(GOLDEN_DIR, join(dir, entry.name))],
  );
}

describe("golden files", () => {
  beforeAll(() => {
    if (!UPDATE) return;
    for (const fixture of fixtures) rmSync(join(GOLDEN_DIR, fixture.name), { recursive: true, force: true });
    for (const [file, text] of rendered) {
      mkdirSync(dirname(join(GOLDEN_DIR, file)), { recursive: true });
      writeFileSync(join(GOLDEN_DIR, file), text);
    }
  });

  it.each([...rendered.keys()])("%s matches its golden file byte for byte", (file) => {
    const path = join(GOLDEN_DIR, file);
    if (!existsSync(path)) throw new Error(`golden/${file} is missing: rerun with UPDATE_GOLDEN=1`);
    expect(rendered.get(file), `golden/${file}`).toBe(readFileSync(path, "utf8"));
  });

  it("holds no golden file that nothing renders any more", () => {
    expect(listGolden(GOLDEN_DIR).sort()).toEqual([...rendered.keys()].sort());
  });

  it("renders every fixture deterministically", () => {
    expect(new Map(fixtures.flatMap((fixture) => [...render(fixture)]))).toEqual(rendered);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureIpForwarding } from "../../src/system/forwarding.ts";

describe("IPv4 forwarding on a switch", () => {
  const dir = mkdtempSync(join(tmpdir(), "sb-forward-"));
  const file = join(dir, "ip_forward");
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) };
  afterEach(() => {
    lines.length = 0;
  });

  it("turns forwarding on in managed mode", async () => {
    writeFileSync(file, "0\n");
    expect(await ensureIpForwarding("managed", log, file)).toBe(true);
    expect(readFileSync(file, "utf8").trim()).toBe("1");
    expect(lines).toEqual([expect.stringContaining("turned on IPv4 forwarding")]);
  });

  it("only warns in external mode, leaving the setting to the operator", async () => {
    writeFileSync(file, "0\n");
    expect(await ensureIpForwarding("external", log, file)).toBe(false);
    expect(readFileSync(file, "utf8").trim()).toBe("0");
    expect(lines).toEqual([expect.stringContaining("IPv4 forwarding is off")]);
  });

  it("does nothing when forwarding is already on", async () => {
    writeFileSync(file, "1\n");
    expect(await ensureIpForwarding("managed", log, file)).toBe(true);
    expect(lines).toEqual([]);
  });

  it("warns instead of failing when the setting cannot be read", async () => {
    expect(await ensureIpForwarding("managed", log, join(dir, "missing"))).toBe(false);
    expect(lines).toEqual([expect.stringContaining("cannot read")]);
    rmSync(dir, { recursive: true, force: true });
  });
});

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chromiumPath, onPath } from "../src/env.ts";

describe("environment probes", () => {
  const saved = { PATH: process.env.PATH, CHROMIUM_PATH: process.env.CHROMIUM_PATH };
  const dirs: string[] = [];
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.CHROMIUM_PATH === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = saved.CHROMIUM_PATH;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function binDir(...names: string[]): string {
    const dir = mkdtempSync(join(tmpdir(), "sb-env-"));
    dirs.push(dir);
    for (const name of names) {
      writeFileSync(join(dir, name), "#!/bin/sh\n");
      chmodSync(join(dir, name), 0o755);
    }
    return dir;
  }

  it("finds Chromium on PATH, and nothing once it is off PATH", () => {
    delete process.env.CHROMIUM_PATH;
    const dir = binDir("chromium");
    process.env.PATH = dir;
    expect(chromiumPath()).toBe(join(dir, "chromium"));
    process.env.PATH = binDir("node");
    expect(chromiumPath()).toBeUndefined();
  });

  it("takes CHROMIUM_PATH over PATH, and reports it missing when that file does not exist", () => {
    process.env.PATH = binDir("chromium");
    process.env.CHROMIUM_PATH = "/nonexistent/chromium";
    expect(chromiumPath()).toBeUndefined();
  });

  it("skips files on PATH that are not executable", () => {
    const dir = binDir();
    writeFileSync(join(dir, "tool"), "not a program");
    chmodSync(join(dir, "tool"), 0o644);
    process.env.PATH = dir;
    // root may execute any file with an x bit; a file with none is still not a program.
    expect(onPath("tool")).toBeUndefined();
  });
});

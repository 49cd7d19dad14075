import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import * as fsPromises from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FileWriter, sha256 } from "../../src/files/file-writer.ts";

/**
 * observe() remembers the hash of a file whose identity, size and times are unchanged (the slow
 * reconcile observes every ccd file each 30 s), and reads again whatever changed, even an edit
 * of the same size with its modification time put back.
 */

vi.mock("node:fs/promises", async (importOriginal) => {
  const original = await importOriginal<typeof import("node:fs/promises")>();
  return { ...original, readFile: vi.fn(original.readFile), lstat: vi.fn(original.lstat) };
});
const reads = vi.mocked(fsPromises.readFile);
const lstats = vi.mocked(fsPromises.lstat);

let base = "";
beforeEach(() => {
  reads.mockClear();
  lstats.mockClear();
  base = mkdtempSync(join(tmpdir(), "sb-observe-"));
  mkdirSync(join(base, "ccd"));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** A clock well past the files' change times: they count as settled. */
const later = () => Date.now() + 60_000;
const readsOf = (name: string) => reads.mock.calls.filter(([path]) => String(path).endsWith(name)).length;

describe("FileWriter.observe's memory of hashes", () => {
  it("does not read a settled file again while nothing about it changed", async () => {
    writeFileSync(join(base, "ccd/web-1"), "ifconfig-push 10.0.0.2\n");
    const files = new FileWriter(base, { now: later });
    const first = await files.observe("ccd/web-1");
    const second = await files.observe("ccd/web-1");
    expect(second).toEqual(first);
    expect(first?.sha256).toBe(sha256("ifconfig-push 10.0.0.2\n"));
    expect(readsOf("web-1")).toBe(1);
  });

  it("reads again after a same-size edit whose modification time was put back", async () => {
    const path = join(base, "ccd/web-1");
    writeFileSync(path, "ifconfig-push 10.0.0.2\n");
    const files = new FileWriter(base, { now: later });
    await files.observe("ccd/web-1");
    const { atime, mtime } = statSync(path);
    writeFileSync(path, "ifconfig-push 10.0.0.3\n");
    utimesSync(path, atime, mtime);
    expect((await files.observe("ccd/web-1"))?.sha256).toBe(sha256("ifconfig-push 10.0.0.3\n"));
  });

  it("sees a mode change, a replacement by a symlink and a removal", async () => {
    const path = join(base, "ccd/web-1");
    writeFileSync(path, "x\n", { mode: 0o644 });
    const files = new FileWriter(base, { now: later });
    await files.observe("ccd/web-1");
    chmodSync(path, 0o600);
    expect((await files.observe("ccd/web-1"))?.mode).toBe(0o600);
    rmSync(path);
    symlinkSync("/etc/passwd", path);
    expect(await files.observe("ccd/web-1")).toBeUndefined();
    rmSync(path);
    expect(await files.observe("ccd/web-1")).toBeUndefined();
    writeFileSync(path, "y\n");
    expect((await files.observe("ccd/web-1"))?.sha256).toBe(sha256("y\n"));
  });

  it("reads a file changed moments ago every time (its times may not show the next edit)", async () => {
    writeFileSync(join(base, "ccd/web-1"), "x\n");
    const files = new FileWriter(base);
    await files.observe("ccd/web-1");
    await files.observe("ccd/web-1");
    expect(readsOf("web-1")).toBe(2);
  });
});

describe("FileWriter.observeMany", () => {
  it("observes like observe() one by one, checking each directory once for all its files", async () => {
    for (let i = 0; i < 20; i++) writeFileSync(join(base, `ccd/h-${i}`), `ifconfig-push 10.0.0.${i}\n`);
    writeFileSync(join(base, "server.conf"), "mode server\n");
    const paths = ["server.conf", "ccd/missing", ...Array.from({ length: 20 }, (_, i) => `ccd/h-${i}`)];
    const files = new FileWriter(base);
    const one = new Map();
    for (const path of paths) {
      const file = await files.observe(path);
      if (file) one.set(path, file);
    }
    lstats.mockClear();
    const many = await files.observeMany(paths, 4);
    expect(many).toEqual(one);
    expect(lstats.mock.calls.filter(([path]) => String(path) === join(base, "ccd"))).toHaveLength(1);
  });

  it("refuses a symlinked directory as observe() does", async () => {
    rmSync(join(base, "ccd"), { recursive: true });
    const elsewhere = mkdtempSync(join(tmpdir(), "sb-observe-elsewhere-"));
    writeFileSync(join(elsewhere, "h-1"), "x\n");
    symlinkSync(elsewhere, join(base, "ccd"));
    const files = new FileWriter(base);
    await expect(files.observeMany(["ccd/h-1"])).rejects.toThrow(/symlink/);
    await expect(files.observe("ccd/h-1")).rejects.toThrow(/symlink/);
    rmSync(elsewhere, { recursive: true, force: true });
  });
});

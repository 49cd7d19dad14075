import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileWriter, sha256 } from "../../src/files/file-writer.ts";
import { PathError, resolveInside } from "../../src/files/safe-path.ts";

let root = "";
let base = "";
let outside = "";

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "sb-files-"));
  base = join(root, "agent");
  outside = join(root, "outside");
  mkdirSync(base);
  mkdirSync(outside);
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe("FileWriter.write", () => {
  it("writes keys 0600, configs 0644 and the hook 0755, whatever the umask", async () => {
    const writer = new FileWriter(base);
    const old = process.umask(0o000);
    try {
      await writer.write("server.key", "KEY", "secret");
      await writer.write("ccd/web-1", "ifconfig-push 10.0.0.5 255.255.255.0\n", "public");
      await writer.write("client-hook", "#!/bin/sh\n", "executable");
    } finally {
      process.umask(old);
    }
    expect(mode(join(base, "server.key"))).toBe(0o600);
    expect(mode(join(base, "ccd/web-1"))).toBe(0o644);
    expect(mode(join(base, "client-hook"))).toBe(0o755);
    expect(readFileSync(join(base, "ccd/web-1"), "utf8")).toContain("ifconfig-push");
  });

  it("makes the directories it creates 0755 under a umask of 077 (OpenVPN reads ccd/ as nobody)", async () => {
    const writer = new FileWriter(base);
    const old = process.umask(0o077);
    try {
      await writer.write("ccd/web-1", "ifconfig-push 10.0.0.2 255.255.255.0\n", "public");
      await writer.ensureDir("ccd-empty");
    } finally {
      process.umask(old);
    }
    expect(mode(join(base, "ccd"))).toBe(0o755);
    expect(mode(join(base, "ccd-empty"))).toBe(0o755);
    expect(mode(join(base, "ccd/web-1"))).toBe(0o644);
  });

  it("replaces a file atomically and leaves no temp file behind", async () => {
    const writer = new FileWriter(base);
    await writer.write("server.conf", "old", "public");
    const before = statSync(join(base, "server.conf")).ino;
    await writer.write("server.conf", "new", "public");
    expect(readFileSync(join(base, "server.conf"), "utf8")).toBe("new");
    expect(statSync(join(base, "server.conf")).ino).not.toBe(before);
    expect(readdirSync(base)).toEqual(["server.conf"]);
  });

  it("tightens the mode of an existing file when asked to (a key once written 0644)", async () => {
    writeFileSync(join(base, "server.key"), "KEY", { mode: 0o644 });
    await new FileWriter(base).write("server.key", "KEY", "secret");
    expect(mode(join(base, "server.key"))).toBe(0o600);
  });

  const hostile = [
    "../escape",
    "ccd/../../escape",
    "/etc/passwd",
    `${"/tmp"}/x`,
    "a\u0000b",
    "",
    ".",
    "..",
    "ccd/.hidden",
    "ccd//double",
    "ccd/",
    "a\\..\\b",
    "ccd/with space",
    "ccd/new\nline",
    "-rf",
  ];
  for (const name of hostile) {
    it(`refuses the path ${JSON.stringify(name)}`, async () => {
      await expect(new FileWriter(base).write(name, "x", "public")).rejects.toBeInstanceOf(PathError);
      expect(readdirSync(outside)).toEqual([]);
      expect(readdirSync(root).sort()).toEqual(["agent", "outside"]);
    });
  }

  it("creates an empty directory OpenVPN needs (ccd) and refuses one that is a planted symlink", async () => {
    await new FileWriter(join(base, "fresh")).ensureDir("ccd");
    expect(statSync(join(base, "fresh", "ccd")).isDirectory()).toBe(true);
    symlinkSync(outside, join(base, "ccd"));
    await expect(new FileWriter(base).ensureDir("ccd")).rejects.toThrow(/symlinks are refused/);
    await expect(new FileWriter(base).ensureDir("../outside")).rejects.toThrow(PathError);
  });

  it("refuses to write through a symlinked directory planted inside the base", async () => {
    symlinkSync(outside, join(base, "ccd"));
    await expect(new FileWriter(base).write("ccd/web-1", "x", "public")).rejects.toThrow(/symlinks are refused/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("replaces a symlink at the target itself instead of writing through it", async () => {
    writeFileSync(join(outside, "victim"), "untouched");
    symlinkSync(join(outside, "victim"), join(base, "server.conf"));
    await new FileWriter(base).write("server.conf", "mine", "public");
    expect(readFileSync(join(outside, "victim"), "utf8")).toBe("untouched");
    expect(lstatSync(join(base, "server.conf")).isSymbolicLink()).toBe(false);
  });

  it("appends to a journal 0600 whatever the umask, and never through a symlink planted at it", async () => {
    const writer = new FileWriter(base);
    const old = process.umask(0o000);
    try {
      await writer.append("state/desired.journal", "one\n", "secret");
      await writer.append("state/desired.journal", "two\n", "secret");
    } finally {
      process.umask(old);
    }
    expect(readFileSync(join(base, "state/desired.journal"), "utf8")).toBe("one\ntwo\n");
    expect(mode(join(base, "state/desired.journal"))).toBe(0o600);
    writeFileSync(join(outside, "victim"), "untouched");
    symlinkSync(join(outside, "victim"), join(base, "state/other.journal"));
    await expect(writer.append("state/other.journal", "x", "secret")).rejects.toThrow(/ELOOP|symbolic/);
    expect(readFileSync(join(outside, "victim"), "utf8")).toBe("untouched");
  });

  it("accepts a base directory that is itself a symlink", async () => {
    const link = join(root, "link");
    symlinkSync(base, link);
    await new FileWriter(link).write("ca.crt", "CA", "public");
    expect(readFileSync(join(base, "ca.crt"), "utf8")).toBe("CA");
  });

  it("resolveInside keeps every result under the base", () => {
    expect(resolveInside("/srv/sb", "ccd/web-1").absolute).toBe("/srv/sb/ccd/web-1");
    expect(() => resolveInside("/srv/sb", "ccd/../x")).toThrow(PathError);
  });
});

describe("FileWriter.observe, remove and syncDir", () => {
  it("reports hash and mode of a managed file, nothing for a symlink or a missing file", async () => {
    const writer = new FileWriter(base);
    await writer.write("ca.crt", "CA", "public");
    symlinkSync("/etc/hostname", join(base, "crl.pem"));
    expect(await writer.observe("ca.crt")).toEqual({ sha256: sha256("CA"), mode: 0o644 });
    expect(await writer.observe("crl.pem")).toBeUndefined();
    expect(await writer.observe("missing")).toBeUndefined();
  });

  it("removes the ccd files of deleted hosts and crash leftovers, and nothing else", async () => {
    const writer = new FileWriter(base);
    for (const cn of ["keep-1", "keep-2", "gone-1", "gone-2"]) await writer.write(`ccd/${cn}`, cn, "public");
    writeFileSync(join(base, "ccd/DEFAULT"), "admin's");
    writeFileSync(join(base, "ccd/.notes"), "admin's");
    writeFileSync(join(base, "ccd/.gone-1.0123456789ab.tmp"), "leftover");
    mkdirSync(join(base, "ccd/subdir"));
    writeFileSync(join(outside, "target"), "x");
    symlinkSync(join(outside, "target"), join(base, "ccd/linked"));

    const removed = await writer.syncDir("ccd", ["keep-1", "keep-2"]);

    expect(removed).toEqual([".gone-1.0123456789ab.tmp", "gone-1", "gone-2"]);
    expect(readdirSync(join(base, "ccd")).sort()).toEqual([
      ".notes",
      "DEFAULT",
      "keep-1",
      "keep-2",
      "linked",
      "subdir",
    ]);
    expect(readFileSync(join(outside, "target"), "utf8")).toBe("x");
  });

  it("does nothing for a missing directory and refuses a symlinked one", async () => {
    const writer = new FileWriter(base);
    expect(await writer.syncDir("ccd", [])).toEqual([]);
    writeFileSync(join(outside, "host"), "x");
    symlinkSync(outside, join(base, "ccd"));
    await expect(writer.syncDir("ccd", [])).rejects.toThrow(/symlinks are refused/);
    expect(readdirSync(outside)).toEqual(["host"]);
  });

  it("removes a single managed file and says whether there was one", async () => {
    const writer = new FileWriter(base);
    await writer.write("backbone-2.conf", "x", "public");
    expect(await writer.remove("backbone-2.conf")).toBe(true);
    expect(await writer.remove("backbone-2.conf")).toBe(false);
    await expect(writer.remove("../outside")).rejects.toBeInstanceOf(PathError);
  });
});

describe("FileWriter.writeMany", () => {
  it("writes every file with its mode, replaces old ones, leaves no temp file, and reports the ones it could not write", async () => {
    const writer = new FileWriter(base);
    await writer.write("ccd/h-0", "old", "public");
    symlinkSync(outside, join(base, "linked"));
    const entries = [
      ...Array.from({ length: 100 }, (_, i) => ({
        path: `ccd/h-${i}`,
        content: `host ${i}\n`,
        mode: "public" as const,
      })),
      { path: "server.key", content: "KEY", mode: "secret" as const },
      { path: "linked/evil", content: "x", mode: "public" as const },
    ];
    const failed = await writer.writeMany(entries);

    expect([...failed.keys()]).toEqual(["linked/evil"]);
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(base, "ccd/h-0"), "utf8")).toBe("host 0\n");
    expect(readFileSync(join(base, "ccd/h-99"), "utf8")).toBe("host 99\n");
    expect(readdirSync(join(base, "ccd"))).toHaveLength(100);
    expect(mode(join(base, "ccd/h-5"))).toBe(0o644);
    expect(mode(join(base, "server.key"))).toBe(0o600);
  });
});

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Whether openssl and easy-rsa are there is the test kit's question: itNeeding(["openssl"], ...).
export { EASYRSA } from "@switchboard/testkit/env";

/** Runs openssl; returns status and output instead of throwing, so tests can assert refusals. */
export function openssl(args: string[], input?: string) {
  const result = spawnSync("openssl", args, { input, encoding: "utf8" });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

/** A temp folder whose files tests write by name; `cleanup()` removes it. */
export function scratchDir(prefix = "sb-test-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(name: string, text: string) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A private key and a CSR for `subject` (e.g. "/CN=web-1"), made by openssl as a host would. */
export function opensslCsr(dir: Pick<ReturnType<typeof scratchDir>, "dir">, name: string, subject: string) {
  const key = join(dir.dir, `${name}.key`);
  const csr = join(dir.dir, `${name}.csr`);
  const result = openssl([
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    subject,
  ]);
  if (result.status !== 0) throw new Error(result.out);
  return { keyPath: key, csrPath: csr };
}

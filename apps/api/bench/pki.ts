/**
 * `pnpm bench:pki`: Switchboard's CA against easy-rsa 3 on the same work, on this machine.
 *
 * Both sides get a fresh CA with an RSA 3072 key (Switchboard's default; easy-rsa is told the
 * same for its CA only) built before timing starts, and both issue client certificates:
 *   keygen: a new RSA 2048 key per certificate (easy-rsa `build-client-full NAME nopass`)
 *   csr:    signing a prepared CSR (easy-rsa `import-req` + `sign-req client`)
 * easy-rsa makes a few certificates per second, so it is timed on a smaller sample. The two
 * sides run in alternating rounds so that load from other processes on the machine falls on
 * both alike. The last two lines are the results.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createCa, createCsr, issueCertificate, seal, signCsr } from "../src/pki/index.ts";
import { generateKey } from "../src/pki/keys.ts";

const EASYRSA = "/usr/share/easy-rsa/easyrsa";
const ROUNDS = 4;
const KEYGEN = { switchboard: 320, easyRsa: 64 };
const CSR = { switchboard: 400, easyRsa: 60 };
/** Key generations in flight: enough to keep libuv's four threads, and so both cores, busy. */
const CONCURRENCY = 4;
const VALIDITY_DAYS = 825; // easy-rsa's default for issued certificates

const root = mkdtempSync(join(tmpdir(), "bench-pki-"));
const cleanup = () => rmSync(root, { recursive: true, force: true });
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

function easyrsa(args: string[], env: Record<string, string> = {}): void {
  const result = spawnSync(EASYRSA, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, EASYRSA_BATCH: "1", EASYRSA_PKI: join(root, "pki"), ...env },
  });
  if (result.status !== 0) throw new Error(`easyrsa ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
}

/** Runs `count` jobs with `concurrency` in flight; returns the elapsed seconds. */
async function timed(count: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return (performance.now() - started) / 1000;
}

function timedSync(count: number, job: (i: number) => void): number {
  const started = performance.now();
  for (let i = 0; i < count; i++) job(i);
  return (performance.now() - started) / 1000;
}

const rate = (count: number, seconds: number) => count / seconds;
const line = (name: string, sb: number, er: number) =>
  `${name}: switchboard ${sb.toFixed(1)} certs/s, easy-rsa ${er.toFixed(1)} certs/s, ratio ${(sb / er).toFixed(1)}`;

async function main(): Promise<void> {
  if (!existsSync(EASYRSA)) throw new Error(`easy-rsa not found at ${EASYRSA} (Debian package easy-rsa)`);
  const version = /Version:\s+(\S+)/.exec(spawnSync(EASYRSA, ["--version"], { encoding: "utf8" }).stdout)?.[1];
  console.log(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), load average ${loadavg()[0]?.toFixed(2)}`,
  );
  console.log(`easy-rsa ${version ?? "(unknown version)"} at ${EASYRSA}, batch mode, fresh PKI in ${root}`);

  // Untimed set-up: both CAs, and the CSRs both sides will sign.
  const ca = await createCa({ commonName: "Bench CA", validityDays: 3650 });
  easyrsa(["init-pki"]);
  easyrsa(["build-ca", "nopass"], { EASYRSA_REQ_CN: "Bench CA", EASYRSA_KEY_SIZE: "3072" });
  const masterKey = randomBytes(32);
  const csrKeys = await Promise.all(Array.from({ length: 8 }, () => generateKey("rsa-2048")));
  const csrFor = (name: string, i: number) =>
    createCsr({ commonName: name, keyPem: csrKeys[i % csrKeys.length]?.keyPem ?? "" });
  const sbCsrs = await Promise.all(Array.from({ length: CSR.switchboard }, (_, i) => csrFor(`sb-req-${i}`, i)));
  const requestDir = join(root, "requests");
  mkdirSync(requestDir);
  for (let i = 0; i < CSR.easyRsa; i++)
    writeFileSync(join(requestDir, `er-req-${i}.req`), await csrFor(`er-req-${i}`, i));
  console.log(
    `samples: keygen ${KEYGEN.switchboard} Switchboard / ${KEYGEN.easyRsa} easy-rsa certificates, ` +
      `csr ${CSR.switchboard} / ${CSR.easyRsa}, in ${ROUNDS} alternating rounds (easy-rsa runs ~3.5/s, so a smaller sample)`,
  );

  const leaf = { caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: "client", validityDays: VALIDITY_DAYS } as const;
  const seconds = { keygenSb: 0, keygenEr: 0, csrSb: 0, csrEr: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const sbBase = round * (KEYGEN.switchboard / ROUNDS);
    seconds.keygenSb += await timed(KEYGEN.switchboard / ROUNDS, CONCURRENCY, async (i) => {
      const issued = await issueCertificate({ ...leaf, commonName: `sb-host-${sbBase + i}` });
      // What the API will store: the key sealed at rest.
      seal(issued.keyPem, masterKey, `host-key:${issued.serialHex}`);
    });
    const erBase = round * (KEYGEN.easyRsa / ROUNDS);
    seconds.keygenEr += timedSync(KEYGEN.easyRsa / ROUNDS, (i) =>
      easyrsa(["build-client-full", `er-host-${erBase + i}`, "nopass"]),
    );
  }
  for (let round = 0; round < ROUNDS; round++) {
    const sbBase = round * (CSR.switchboard / ROUNDS);
    seconds.csrSb += await timed(CSR.switchboard / ROUNDS, CONCURRENCY, (i) =>
      signCsr({ ...leaf, commonName: `sb-req-${sbBase + i}`, csrPem: sbCsrs[sbBase + i] ?? "" }),
    );
    const erBase = round * (CSR.easyRsa / ROUNDS);
    seconds.csrEr += timedSync(CSR.easyRsa / ROUNDS, (i) => {
      const name = `er-req-${erBase + i}`;
      easyrsa(["import-req", join(requestDir, `${name}.req`), name]);
      easyrsa(["sign-req", "client", name]);
    });
  }

  console.log(line("pki-keygen", rate(KEYGEN.switchboard, seconds.keygenSb), rate(KEYGEN.easyRsa, seconds.keygenEr)));
  console.log(line("pki-csr", rate(CSR.switchboard, seconds.csrSb), rate(CSR.easyRsa, seconds.csrEr)));
}

try {
  await main();
} catch (error) {
  console.error(`bench:pki failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}

/**
 * `pnpm bench:pki`: Switchboard's CA against easy-rsa 3 and plain openssl on the same work, on
 * this machine, and the API operation a user calls.
 *
 * Every side gets a fresh CA with an RSA 3072 key (Switchboard's default; easy-rsa is told the
 * same for its CA only) built before timing starts, and issues client certificates:
 *   keygen: a new RSA 2048 key per certificate (easy-rsa `build-client-full NAME nopass`;
 *           openssl `req -newkey rsa:2048` then `x509 -req` with the client extensions)
 *   csr:    signing a prepared CSR (easy-rsa `import-req` + `sign-req client`; openssl `x509 -req`)
 * Switchboard runs twice: CONCURRENCY jobs in flight (the parallel figure) and one at a time
 * (serial, against the serial tools: easy-rsa and openssl are one process per certificate).
 * easy-rsa and openssl make a few certificates per second, so they are timed on smaller samples.
 * The sides run in alternating rounds so that load from other processes falls on all alike.
 *
 * Then the API: POST /api/hosts/:id/certificate over real HTTP (the server as its own process,
 * as bench:api runs it) on PGlite and on PostgreSQL: key generation, signing, sealing the key,
 * the Certificate row and its audit row, API_CLIENTS clients in flight, one host each request.
 * The last two lines are the results; their fields up to "ratio" are the original format:
 *   pki-keygen: switchboard <n> certs/s, easy-rsa <n> certs/s, ratio <r>, serial <n> certs/s
 *     (ratio <r> to easy-rsa, <r> to openssl), openssl <n> certs/s
 *   pki-csr: (the same fields)
 * BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres) names a server where
 * the bench may create and drop a scratch database.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { restCaller } from "@switchboard/testkit/rest";
import { adminTokenHeaders, startServer } from "@switchboard/testkit/server-process";
import { ms, percentile, timed } from "@switchboard/testkit/stats";
import { createCa, createCsr, issueCertificate, seal, signCsr } from "../src/pki/index.ts";
import { generateKey } from "../src/pki/keys.ts";
import { withScratchDatabase } from "./scratch-database.ts";

const EASYRSA = "/usr/share/easy-rsa/easyrsa";
const ROUNDS = 4;
const KEYGEN = { switchboard: 320, serial: 80, easyRsa: 64, openssl: 48 };
const CSR = { switchboard: 400, serial: 200, easyRsa: 60, openssl: 60 };
/** Key generations in flight: enough to keep libuv's four threads, and so both cores, busy. */
const CONCURRENCY = 4;
/** Certificates issued through the API per database (one host each), and clients in flight. */
const API_CERTS = Number(process.env.BENCH_API_CERTS ?? 160);
const API_CLIENTS = Number(process.env.BENCH_API_CLIENTS ?? 4);
/** Deadline for one API request or one openssl run: catches a hang, not a slow machine. */
const DEADLINE_MS = 120_000;
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

function openssl(args: string[]): void {
  const result = spawnSync("openssl", args, { cwd: root, encoding: "utf8", timeout: DEADLINE_MS });
  if (result.status !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
}

/** Runs `count` jobs with `concurrency` in flight (the shared stats helper); returns the elapsed seconds. */
async function elapsed(count: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await timed(count, concurrency, async (i) => void (await job(i)));
  return (performance.now() - started) / 1000;
}

function timedSync(count: number, job: (i: number) => void): number {
  const started = performance.now();
  for (let i = 0; i < count; i++) job(i);
  return (performance.now() - started) / 1000;
}

const rate = (count: number, seconds: number) => count / seconds;
const certsPerSecond = (value: number) => `${value.toFixed(1)} certs/s`;
/** Original fields first (parallel Switchboard against easy-rsa), then the serial and openssl ones. */
const line = (name: string, rates: { sb: number; serial: number; er: number; ossl: number }) =>
  `${name}: switchboard ${certsPerSecond(rates.sb)}, easy-rsa ${certsPerSecond(rates.er)}, ratio ${(rates.sb / rates.er).toFixed(1)}, ` +
  `serial ${certsPerSecond(rates.serial)} (ratio ${(rates.serial / rates.er).toFixed(1)} to easy-rsa, ${(rates.serial / rates.ossl).toFixed(1)} to openssl), ` +
  `openssl ${certsPerSecond(rates.ossl)}`;

/** The extensions Switchboard and easy-rsa put on a client certificate, for the openssl side. */
const CLIENT_EXTENSIONS = [
  "basicConstraints = CA:FALSE",
  "keyUsage = critical, digitalSignature",
  "extendedKeyUsage = clientAuth",
  "subjectKeyIdentifier = hash",
  "authorityKeyIdentifier = keyid",
].join("\n");

/** POST /api/hosts/:id/certificate through a real server process: latencies and elapsed time. */
async function apiIssue(label: string, env: Record<string, string>): Promise<string> {
  const server = startServer({ ...env, LOG_LEVEL: "warn" });
  const ready = await Promise.race([
    server.ready,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${label}: the API was not up within ${DEADLINE_MS} ms`)), DEADLINE_MS).unref(),
    ),
  ]);
  const base = ready.replace(/\/$/, "");
  const auth: Record<string, string> = {};
  const call = restCaller(auth);
  try {
    Object.assign(auth, await adminTokenHeaders(server, base));
    // Untimed: the network (its CA key is made here) and the hosts, imported in one request.
    const network = await call("POST", `${base}/api/networks`, {
      name: "bench",
      dataSubnet: "10.80.0.0/16",
      backboneSubnet: "10.81.0.0/24",
    });
    const hosts = Array.from({ length: API_CERTS + API_CLIENTS }, (_, i) => ({ commonName: `pki-${i}` }));
    const imported = await call("POST", `${base}/api/hosts/import`, { networkId: network.id, hosts });
    const ids: string[] = imported.hosts.map((h: { id: string }) => h.id);
    const issue = (id: string) =>
      Promise.race([
        call("POST", `${base}/api/hosts/${id}/certificate`, {}),
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`${label}: certificate for host ${id} not issued within ${DEADLINE_MS} ms`)),
            DEADLINE_MS,
          ).unref(),
        ),
      ]);
    // Warm-up, one per client (JIT, pooled connections), on hosts of their own.
    await timed(API_CLIENTS, API_CLIENTS, async (i) => void (await issue(ids[API_CERTS + i] as string)));
    const started = performance.now();
    const latencies = await timed(API_CERTS, API_CLIENTS, async (i) => void (await issue(ids[i] as string)));
    const seconds = (performance.now() - started) / 1000;
    // Each issue wrote its audit row: the operation measured is the whole one, not a shortcut.
    const audit = await call("GET", `${base}/api/audit?action=certificate.issue&limit=500`);
    const audited = new Set(audit.items.map((row: { targetId: string }) => row.targetId));
    const missing = ids.filter((id) => !audited.has(id)).length;
    if (missing > 0 && API_CERTS + API_CLIENTS <= 500)
      throw new Error(`${label}: ${missing} of ${ids.length} issues have no certificate.issue audit row`);
    return (
      `${label}: POST /api/hosts/:id/certificate p50 ${ms(percentile(latencies, 50))} ms, p99 ${ms(percentile(latencies, 99))} ms, ` +
      `${certsPerSecond(rate(API_CERTS, seconds))} (${API_CLIENTS} clients, ${API_CERTS} certificates, key generated by the API)`
    );
  } finally {
    await server.stop();
  }
}

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
  for (let i = 0; i < Math.max(CSR.easyRsa, CSR.openssl); i++)
    writeFileSync(join(requestDir, `er-req-${i}.req`), await csrFor(`er-req-${i}`, i));
  // openssl signs with Switchboard's CA, so both sign with the same key.
  const opensslDir = join(root, "openssl");
  mkdirSync(opensslDir);
  const caCert = join(opensslDir, "ca.crt");
  const caKey = join(opensslDir, "ca.key");
  const extensions = join(opensslDir, "client.ext");
  writeFileSync(caCert, ca.certPem);
  writeFileSync(caKey, ca.keyPem, { mode: 0o600 });
  writeFileSync(extensions, `${CLIENT_EXTENSIONS}\n`);
  const opensslSign = (csr: string, name: string) =>
    openssl(
      [
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        caCert,
        "-CAkey",
        caKey,
        "-set_serial",
        `0x${randomBytes(16).toString("hex")}`,
      ].concat([
        "-days",
        String(VALIDITY_DAYS),
        "-sha256",
        "-extfile",
        extensions,
        "-out",
        join(opensslDir, `${name}.crt`),
      ]),
    );
  console.log(
    `samples: keygen ${KEYGEN.switchboard} Switchboard (${CONCURRENCY} in flight) / ${KEYGEN.serial} serial / ` +
      `${KEYGEN.easyRsa} easy-rsa / ${KEYGEN.openssl} openssl certificates, csr ${CSR.switchboard} / ${CSR.serial} / ` +
      `${CSR.easyRsa} / ${CSR.openssl}, in ${ROUNDS} alternating rounds (the tools run a few per second, so smaller samples)`,
  );

  const leaf = { caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: "client", validityDays: VALIDITY_DAYS } as const;
  const issueOne = async (name: string) => {
    const issued = await issueCertificate({ ...leaf, commonName: name });
    // What the API will store: the key sealed at rest.
    seal(issued.keyPem, masterKey, `host-key:${issued.serialHex}`);
  };
  const keygen = { sb: 0, serial: 0, er: 0, ossl: 0 };
  const csr = { sb: 0, serial: 0, er: 0, ossl: 0 };
  const perRound = (count: number) => count / ROUNDS;
  for (let round = 0; round < ROUNDS; round++) {
    keygen.sb += await elapsed(perRound(KEYGEN.switchboard), CONCURRENCY, (i) => issueOne(`sb-host-${round}-${i}`));
    keygen.serial += await elapsed(perRound(KEYGEN.serial), 1, (i) => issueOne(`sb-serial-${round}-${i}`));
    keygen.er += timedSync(perRound(KEYGEN.easyRsa), (i) =>
      easyrsa(["build-client-full", `er-host-${round}-${i}`, "nopass"]),
    );
    keygen.ossl += timedSync(perRound(KEYGEN.openssl), (i) => {
      const name = `ossl-host-${round}-${i}`;
      const request = join(opensslDir, `${name}.csr`);
      openssl(
        ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", join(opensslDir, `${name}.key`)].concat([
          "-subj",
          `/CN=${name}`,
          "-out",
          request,
        ]),
      );
      opensslSign(request, name);
    });
  }
  for (let round = 0; round < ROUNDS; round++) {
    const sbBase = round * perRound(CSR.switchboard);
    csr.sb += await elapsed(perRound(CSR.switchboard), CONCURRENCY, (i) =>
      signCsr({ ...leaf, commonName: `sb-req-${sbBase + i}`, csrPem: sbCsrs[sbBase + i] ?? "" }),
    );
    const serialBase = round * perRound(CSR.serial);
    csr.serial += await elapsed(perRound(CSR.serial), 1, (i) =>
      signCsr({ ...leaf, commonName: `sb-req-${serialBase + i}`, csrPem: sbCsrs[serialBase + i] ?? "" }),
    );
    const erBase = round * perRound(CSR.easyRsa);
    csr.er += timedSync(perRound(CSR.easyRsa), (i) => {
      const name = `er-req-${erBase + i}`;
      easyrsa(["import-req", join(requestDir, `${name}.req`), name]);
      easyrsa(["sign-req", "client", name]);
    });
    const osslBase = round * perRound(CSR.openssl);
    csr.ossl += timedSync(perRound(CSR.openssl), (i) =>
      opensslSign(join(requestDir, `er-req-${osslBase + i}.req`), `ossl-req-${osslBase + i}`),
    );
  }

  const dataDir = join(root, "api-data");
  mkdirSync(dataDir);
  console.log(await apiIssue("pki-api[pglite]", { DATA_DIR: dataDir }));
  console.log(await withScratchDatabase("sb_bench_pki", (url) => apiIssue("pki-api", { DATABASE_URL: url })));

  const rates = (totals: typeof keygen, samples: typeof KEYGEN) => ({
    sb: rate(samples.switchboard, totals.sb),
    serial: rate(samples.serial, totals.serial),
    er: rate(samples.easyRsa, totals.er),
    ossl: rate(samples.openssl, totals.ossl),
  });
  console.log(line("pki-keygen", rates(keygen, KEYGEN)));
  console.log(line("pki-csr", rates(csr, CSR)));
}

try {
  await main();
} catch (error) {
  console.error(`bench:pki failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}

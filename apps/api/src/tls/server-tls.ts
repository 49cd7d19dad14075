import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import { link, lstat, open, readFile, rm, unlink } from "node:fs/promises";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { StartupError } from "../startup-error.ts";
import { createSelfSignedCertificate } from "./self-signed.ts";

export const SELF_SIGNED_CERT_FILE = "tls-cert.pem";
export const SELF_SIGNED_KEY_FILE = "tls-key.pem";

export interface ServerTls {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the (first) certificate as Node prints it: what `enroll --fingerprint` pins. */
  fingerprint256: string;
  /** Signed by itself: agents must pin it (one a real authority signed, they check as any client does). */
  selfSigned: boolean;
  /** Given by the operator, made now, or made at an earlier start. */
  source: "files" | "created" | "reused";
  /** Where it came from, for the start message. */
  certPath: string;
}

type TlsSettings = Pick<Config, "tls" | "tlsCertFile" | "tlsKeyFile" | "host" | "dataDir" | "publicUrl">;

/** 127.0.0.0/8, ::1 and localhost: only this machine can reach them. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Decides how the API serves: HTTPS with the operator's files, HTTPS with a self-signed
 * certificate kept in DATA_DIR (made once, then reused so agents' pins stay valid), or plain
 * HTTP (undefined) — only on loopback or when TLS=off says a proxy in front does TLS.
 */
export async function resolveServerTls(settings: TlsSettings): Promise<ServerTls | undefined> {
  if (settings.tlsCertFile && settings.tlsKeyFile) {
    const certPem = await readPem("TLS_CERT", settings.tlsCertFile);
    const keyPem = await readPem("TLS_KEY", settings.tlsKeyFile);
    return { ...checked(certPem, keyPem, "TLS_CERT/TLS_KEY"), source: "files", certPath: settings.tlsCertFile };
  }
  if (settings.tls === "off" || (settings.tls === "auto" && isLoopbackHost(settings.host))) return undefined;
  return selfSigned(settings);
}

async function selfSigned(settings: TlsSettings): Promise<ServerTls> {
  const certPath = join(settings.dataDir, SELF_SIGNED_CERT_FILE);
  const keyPath = join(settings.dataDir, SELF_SIGNED_KEY_FILE);
  const existing = await readIfPresent(certPath);
  if (existing !== undefined) {
    await assertPrivateFile(keyPath);
    const keyPem = await readPem(keyPath, keyPath);
    return { ...checked(existing, keyPem, certPath), source: "reused", certPath };
  }
  // A key without its certificate is what a crash between the two writes leaves: it was never
  // served, so nobody pinned it.
  await rm(keyPath, { force: true });
  const made = await createSelfSignedCertificate(certificateNames(settings));
  // The certificate last: once it is there, the pair is whole.
  await writeExclusive(keyPath, made.keyPem);
  await writeExclusive(certPath, made.certPem);
  return { ...checked(made.certPem, made.keyPem, certPath), source: "created", certPath };
}

/** Like master.key: the key must be a regular file (no symlink) only its owner can read. */
async function assertPrivateFile(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) throw new StartupError(`${path} is missing while its certificate is there: restore it, or remove both`);
  if (!info.isFile()) throw new StartupError(`${path} must be a regular file holding the TLS key`);
  if ((info.mode & 0o077) !== 0) {
    throw new StartupError(`the TLS key must be private to this user: run chmod 600 ${path}`);
  }
}

/** The names a client may use for this API: the listen address, the public name, this machine. */
function certificateNames(settings: TlsSettings): string[] {
  const names: string[] = [];
  if (settings.publicUrl) names.push(new URL(settings.publicUrl).hostname.replace(/^\[|\]$/g, ""));
  const wildcard = settings.host === "0.0.0.0" || settings.host === "::";
  if (!wildcard) names.push(settings.host);
  else {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) if (!address.internal) names.push(address.address.replace(/%.*$/, ""));
    }
  }
  names.push(hostname(), "localhost", "127.0.0.1", "::1");
  return names.filter((name) => /^[A-Za-z0-9.:-]{1,253}$/.test(name));
}

function checked(
  certPem: string,
  keyPem: string,
  what: string,
): Pick<ServerTls, "certPem" | "keyPem" | "fingerprint256" | "selfSigned"> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new StartupError(`${what}: the certificate is not a PEM X.509 certificate`);
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    throw new StartupError(`${what}: the key is not a PEM private key`);
  }
  if (!matches) throw new StartupError(`${what}: the key does not belong to the certificate`);
  if (new Date(cert.validTo).getTime() <= Date.now()) {
    throw new StartupError(`${what}: the certificate expired on ${new Date(cert.validTo).toISOString()}`);
  }
  const selfSigned = cert.issuer === cert.subject && cert.verify(cert.publicKey);
  return { certPem, keyPem, fingerprint256: cert.fingerprint256, selfSigned };
}

async function readPem(setting: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new StartupError(`${setting}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StartupError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/**
 * Writes a whole file readable by this user only, or fails with EEXIST when it is already there.
 * The temporary name is random and opened with O_EXCL, so a symlink planted in its place is not
 * followed.
 */
async function writeExclusive(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomBytes(8).toString("hex")}.tmp`;
  const handle = await open(temporary, "wx", 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
  } finally {
    await unlink(temporary);
  }
}

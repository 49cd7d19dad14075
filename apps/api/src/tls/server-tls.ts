import { createPrivateKey, X509Certificate } from "node:crypto";
import { constants } from "node:fs";
import { link, open, readFile, unlink } from "node:fs/promises";
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
    const keyPem = await readPem(keyPath, keyPath);
    const pair = checked(existing, keyPem, certPath);
    return { ...pair, source: "reused", certPath };
  }
  const made = await createSelfSignedCertificate(certificateNames(settings));
  // The key first, then the certificate by link(): a second instance starting at the same time
  // either sees no certificate (and makes its own attempt, whose link fails) or a whole pair.
  await writeExclusive(keyPath, made.keyPem).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  const keyPem = await readPem(keyPath, keyPath);
  if (keyPem !== made.keyPem) return selfSignedAfterRace(certPath, keyPem);
  try {
    await writeExclusive(certPath, made.certPem);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return selfSignedAfterRace(certPath, keyPem);
  }
  return { ...checked(made.certPem, made.keyPem, certPath), source: "created", certPath };
}

/** Another process made the pair while this one was making its own: use theirs. */
async function selfSignedAfterRace(certPath: string, keyPem: string): Promise<ServerTls> {
  const certPem = await readPem(certPath, certPath);
  return { ...checked(certPem, keyPem, certPath), source: "reused", certPath };
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
): Pick<ServerTls, "certPem" | "keyPem" | "fingerprint256"> {
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
  return { certPem, keyPem, fingerprint256: cert.fingerprint256 };
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

/** Writes a whole file readable by this user only, or fails with EEXIST when it is already there. */
async function writeExclusive(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
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

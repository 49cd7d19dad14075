import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { connect, type PeerCertificate } from "node:tls";
import { DEFAULT_AGENT_DIR, type EnrollResponse } from "@switchboard/shared";
import type { AgentLogger } from "../agent.ts";
import { type CredentialFile, saveCredential } from "./credential-file.ts";
import { type CertificatePin, normaliseFingerprint, pemOf, pinnedTlsOptions } from "./tls-pin.ts";
import { assertSafeTransport } from "./transport-policy.ts";

/** What the API's enrollment answer may name as the base folder (DEFAULT_AGENT_DIR has no regex characters). */
const BASE_DIR = new RegExp(`^${DEFAULT_AGENT_DIR}/[0-9a-z]{5}$`);

export interface EnrollOptions {
  readonly api: string;
  /** More instances of the same API (`--api` given several times): the channel fails over to them. */
  readonly otherApis?: readonly string[];
  readonly token: string;
  readonly stateDir: string;
  /** The API certificate's SHA-256 fingerprint, when the operator has it: checked before the token is sent. */
  readonly fingerprint?: string | undefined;
  /** Allow plain http to another machine (printed as a warning). */
  readonly insecure?: boolean | undefined;
  readonly log?: AgentLogger;
}

/**
 * Looks at the API's certificate without sending anything. A certificate the system trusts needs
 * no pin; any other (self-signed) is pinned: trust on first use, or checked against the
 * fingerprint the operator passed.
 */
async function probeCertificate(url: URL, fingerprint: string | undefined, log: AgentLogger) {
  const port = Number(url.port || 443);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const { cert, authorized, reason } = await new Promise<{
    cert: PeerCertificate;
    authorized: boolean;
    reason: string;
  }>((resolve, reject) => {
    const socket = connect({
      host,
      port,
      // SNI takes names only.
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
    });
    socket.once("secureConnect", () => {
      const result = {
        cert: socket.getPeerCertificate(),
        authorized: socket.authorized,
        reason: String(socket.authorizationError ?? ""),
      };
      socket.end();
      resolve(result);
    });
    socket.once("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no TLS answer from ${host}:${port} within 10 s`)));
  });
  if (!cert?.raw) throw new Error("the API presented no certificate");
  const seen = normaliseFingerprint(cert.fingerprint256);
  if (fingerprint !== undefined && normaliseFingerprint(fingerprint) !== seen) {
    throw new Error(
      `the API's certificate is ${seen}, not the expected ${normaliseFingerprint(fingerprint)}: refusing`,
    );
  }
  if (authorized && fingerprint === undefined) return undefined;
  if (fingerprint === undefined) {
    log.warn(`the API's certificate is not trusted by the system (${reason}); pinning it on first use: SHA256 ${seen}`);
  }
  return { certPem: pemOf(cert), fingerprint256: seen } satisfies CertificatePin;
}

function postJson(url: URL, body: unknown, pin: CertificatePin | undefined) {
  const payload = JSON.stringify(body);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const req = send(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        timeout: 15_000,
        ...(pin ? pinnedTlsOptions(pin) : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Not JSON: report the text.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("the API did not answer within 15 s")));
    req.on("error", reject);
    req.end(payload);
  });
}

/** `switchboard-agent enroll`: trades the one-time token for a credential and stores it 0600. */
export async function enroll(options: EnrollOptions): Promise<{ path: string; file: CredentialFile }> {
  const log = options.log ?? { info: () => undefined, warn: () => undefined };
  const url = apiUrl(options.api, options.insecure === true, log);
  // Instances of one API share one certificate (TLS_CERT), so the one pin holds for each of them.
  const others = (options.otherApis ?? []).map((other) => {
    const parsed = apiUrl(other, options.insecure === true, log);
    if (parsed.protocol !== url.protocol) throw new Error(`--api ${other}: every --api must use ${url.protocol}//`);
    return baseOf(parsed);
  });
  const pin = url.protocol === "https:" ? await probeCertificate(url, options.fingerprint, log) : undefined;
  const base = baseOf(url);
  const answer = await postJson(new URL(`${base}/api/agent/enroll`), { token: options.token }, pin);
  if (answer.status !== 200) {
    const message = (answer.body as { message?: unknown } | null)?.message;
    throw new Error(
      `enrollment refused (${answer.status}): ${typeof message === "string" ? message : "no reason given"}`,
    );
  }
  const response = answer.body as EnrollResponse;
  // The API names the folder for the switch's files; the agent will create, chmod and write
  // there as root, so only the one shape the API makes is taken (never /root, /etc, ..).
  if (typeof response.baseDir !== "string" || !BASE_DIR.test(response.baseDir)) {
    throw new Error(
      `the API named ${JSON.stringify(response.baseDir)} as the switch's folder: only ${DEFAULT_AGENT_DIR}/<network tag> is taken`,
    );
  }
  const file: CredentialFile = {
    api: base,
    ...(others.length > 0 ? { otherApis: [...new Set(others)].filter((other) => other !== base) } : {}),
    credential: response.credential,
    switchId: response.switchId,
    networkId: response.networkId,
    baseDir: response.baseDir,
    ...(pin ? { pin } : {}),
  };
  const path = await saveCredential(options.stateDir, file);
  return { path, file };
}

function apiUrl(api: string, insecure: boolean, log: AgentLogger): URL {
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new Error(`--api ${JSON.stringify(api)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("--api must be an http(s) URL");
  assertSafeTransport(api, insecure, log.warn);
  return url;
}

function baseOf(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/$/, "")}`;
}

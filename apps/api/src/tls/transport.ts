import type { FastifyRequest } from "fastify";

/** How the API is reached: its own TLS, a proxy in front, the public address. */
export interface TransportOptions {
  /** Serve HTTPS with this certificate and key; plain HTTP without. */
  tls?: { certPem: string; keyPem: string; fingerprint256: string; selfSigned: boolean };
  /** Scheme, host and port people and agents use, when not the listen address (behind a proxy). */
  publicUrl?: string;
  /** Proxies whose X-Forwarded-For/-Proto are believed; nobody's when unset. */
  trustProxy?: string[];
}

/** What routes need to know about the transport. */
export interface Transport {
  /**
   * The fingerprint agents must pin (`enroll --fingerprint`): the API's own self-signed
   * certificate's. Undefined for one an authority signed (a pin would break at its renewal) and
   * without own TLS.
   */
  readonly fingerprint256: string | undefined;
  readonly publicUrl: string | undefined;
  /** People reach the API over HTTPS (own TLS or an https public URL): Secure cookies, HSTS, upgrades. */
  readonly publicHttps: boolean;
}

declare module "fastify" {
  interface FastifyInstance {
    transport: Transport;
  }
}

export function transportOf(options: TransportOptions): Transport {
  return {
    fingerprint256: options.tls?.selfSigned ? options.tls.fingerprint256 : undefined,
    publicUrl: options.publicUrl,
    publicHttps: options.tls !== undefined || options.publicUrl?.startsWith("https:") === true,
  };
}

/**
 * Whether this request is on HTTPS as the browser sees it: the deployment says so, or the
 * connection (or a trusted proxy's X-Forwarded-Proto) is https.
 */
export function isSecureRequest(request: FastifyRequest): boolean {
  return request.server.transport.publicHttps || request.protocol === "https";
}

/**
 * `__Host-` over HTTPS: the browser then only keeps the cookie when it is Secure, for `/`, and
 * set by this very host, so a sibling subdomain or a plain-HTTP page cannot plant a session.
 */
export function sessionCookieName(request: FastifyRequest): string {
  return isSecureRequest(request) ? "__Host-sb_session" : "sb_session";
}

/** The base URL to show for this API: the public URL, else what the request was sent to. */
export function publicBaseUrl(request: FastifyRequest): string {
  return request.server.transport.publicUrl ?? `${request.protocol}://${request.host}`;
}

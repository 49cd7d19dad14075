/**
 * Plain HTTP carries the agent's credential and the switch's private keys in the clear, so the
 * agent only speaks it to this machine, or when the operator says `--insecure` (a test bench, a
 * tunnel the agent cannot see). Throws with what to do instead.
 */
export function assertSafeTransport(api: string, insecure: boolean, warn: (message: string) => void): void {
  const url = new URL(api);
  if (url.protocol !== "http:" || isLoopback(url.hostname)) return;
  if (!insecure) {
    throw new Error(
      `refusing plain http to ${url.host}: the credential and the switch's keys would travel unencrypted. ` +
        "Use the API's https:// address (with --fingerprint for a self-signed certificate), or --insecure to accept the risk",
    );
  }
  warn(`INSECURE: talking plain http to ${url.host}; anyone on the path can read the credential and the switch's keys`);
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

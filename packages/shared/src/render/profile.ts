import { checkHost, checkNetwork, checkSwitchSet } from "./checks.ts";
import { ConfigWriter } from "./config-writer.ts";
import { RenderError } from "./errors.ts";
import type { ProfileSecrets, RenderHost, RenderNetwork, RenderSwitch } from "./model.ts";
import { SERVER_NAME_PREFIX } from "./naming.ts";
import { CERTIFICATE_LABELS, checkPemBlock, checkTlsCryptKey, PRIVATE_KEY_LABELS } from "./pem.ts";

/**
 * Seconds a client waits for a switch before trying the next `remote`. Failover after a switch
 * dies takes about ping-restart + 1 + this + 1 seconds (OPENVPN-NOTES.md, measured with 5).
 */
export const SERVER_POLL_TIMEOUT = 5;

export interface ProfileOptions {
  /**
   * The switch the host tries first (e.g. the one at its own provider); the others follow in
   * their usual order, wrapping around, so failover still reaches every switch.
   */
  readonly firstSwitchId?: string;
}

/**
 * A host's .ovpn: one `remote` per enabled switch, ordered by switch name then id so a profile
 * only changes when the switches do (and an admin can express a preference through names or
 * `firstSwitchId`).
 */
export function renderClientProfile(
  network: RenderNetwork,
  host: RenderHost,
  switches: readonly RenderSwitch[],
  secrets: ProfileSecrets,
  options: ProfileOptions = {},
): string {
  const net = checkNetwork(network);
  const all = checkSwitchSet(net, switches);
  const checked = checkHost(net, host, all);
  const ordered = all
    .filter((sw) => sw.enabled)
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  if (ordered.length === 0) throw new RenderError("switches", "at least one switch must be enabled");
  const remotes = startingAt(ordered, options.firstSwitchId);
  const endpoints = new Set<string>();
  for (const sw of remotes) {
    const key = `${sw.endpointHost.toLowerCase()} ${sw.endpointPort}`;
    if (endpoints.has(key)) throw new RenderError("switches", `two enabled switches share the endpoint of ${sw.id}`);
    endpoints.add(key);
  }
  if (typeof secrets !== "object" || secrets === null) throw new RenderError("secrets", "must be an object");
  const ca = checkPemBlock("secrets.caPem", secrets.caPem, CERTIFICATE_LABELS);
  const cert =
    secrets.certPem == null ? undefined : checkPemBlock("secrets.certPem", secrets.certPem, CERTIFICATE_LABELS);
  const key = secrets.keyPem == null ? undefined : checkPemBlock("secrets.keyPem", secrets.keyPem, PRIVATE_KEY_LABELS);
  const tlsCrypt =
    secrets.tlsCryptKey == null ? undefined : checkTlsCryptKey("secrets.tlsCryptKey", secrets.tlsCryptKey);

  const out = new ConfigWriter()
    .comment(`Switchboard profile for ${checked.commonName}.`)
    .directive("client")
    .directive("dev", "tun")
    .directive("proto", net.proto === "udp" ? "udp" : "tcp-client");
  for (const sw of remotes) out.directive("remote", sw.endpointHost, sw.endpointPort);
  if (net.remoteRandom) out.directive("remote-random");
  out
    .directive("resolv-retry", "infinite")
    .directive("nobind")
    .directive("persist-key")
    .directive("persist-tun")
    .directive("remote-cert-tls", "server")
    // Backbone certificates carry serverAuth too: only a data server's name (server.<switch id>) will do.
    .directive("verify-x509-name", SERVER_NAME_PREFIX, "name-prefix")
    .directive("server-poll-timeout", SERVER_POLL_TIMEOUT)
    // No pause before the first retry (a roam or a clean failover then takes ~1 s, not ~2 s,
    // measured in the lab); OpenVPN still backs off after five failures per remote, here up to
    // 10 s instead of 300 s, so hosts are back within seconds of a switch returning.
    // No `auth-retry nointeract`: it would make every reconnect (even a server-pushed
    // RESTART) pause 10 s (measured in the lab).
    .directive("connect-retry", 0, 10);
  if (net.proto === "udp") out.directive("explicit-exit-notify", 1);
  out.directive("data-ciphers", net.ciphers).directive("verb", 3).inline("ca", ca);
  if (cert !== undefined) out.inline("cert", cert);
  if (key !== undefined) out.inline("key", key);
  if (tlsCrypt !== undefined) out.inline("tls-crypt", tlsCrypt);
  return out.toString();
}

function startingAt<T extends { readonly id: string }>(ordered: readonly T[], firstId: string | undefined): T[] {
  if (firstId === undefined) return [...ordered];
  const index = ordered.findIndex((sw) => sw.id === firstId);
  if (index < 0) throw new RenderError("firstSwitchId", "must be an enabled switch of the host's network");
  return [...ordered.slice(index), ...ordered.slice(0, index)];
}

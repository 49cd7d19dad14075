import { formatIpv4 } from "../net/ipv4.ts";
import { type CheckedSwitch, checkNetwork, checkSwitchSet } from "./checks.ts";
import { ConfigWriter } from "./config-writer.ts";
import { BACKBONE_RULES, MANAGEMENT_USER, OPENVPN_GROUP, OPENVPN_USER, SERVER_AUTH_OID } from "./directive-rules.ts";
import type { RenderNetwork, RenderPaths, RenderSwitch } from "./model.ts";
import { backboneCommonName, backboneDevice, checkedLinkPort, type LinkRole, linkRole } from "./naming.ts";
import { backboneLinkPaths } from "./paths.ts";
import * as v from "./validate.ts";

/**
 * Backbone links: one point-to-point TLS tunnel per pair of switches (a server-mode backbone
 * would only learn iroutes at reconnect). Addressing, ports and device names: naming.ts.
 *
 * Each switch has one backbone certificate (CN `backbone.<id>`) used on all its links; since a
 * switch is the TLS server on some links and the client on others, that certificate carries both
 * the serverAuth and clientAuth extended key usages (the PKI's "backbone" kind). `verify-x509-name`
 * pins the peer's CN, and the TLS server end demands serverAuth where `remote-cert-tls client`
 * would accept any host certificate: only switch certificates have it. ccd-exclusive keeps
 * backbone certificates out of the data servers.
 *
 * The links have their own tls-crypt key (not the data servers' one, which every host profile
 * carries), so a host or former host cannot even start a TLS handshake with a link end.
 *
 * Over TCP the TLS server end also accepts the connection (tcp-server) and the other end dials
 * it (tcp-client); over UDP both ends bind their own port and send to the peer's.
 */

export interface BackboneEnd {
  readonly switchId: string;
  readonly peerId: string;
  readonly role: LinkRole;
  readonly device: string;
  /** Port this end listens on (UDP: both ends; TCP: only the tls-server end binds it). */
  readonly localPort: number;
  /** Port of the peer's end, where this end sends to or connects to. */
  readonly remotePort: number;
  readonly configPath: string;
  readonly managementSocket: string;
  readonly config: string;
}

function renderEnd(
  network: RenderNetwork,
  local: CheckedSwitch,
  peer: CheckedSwitch,
  paths: RenderPaths,
  field: string,
): BackboneEnd {
  const net = checkNetwork(network);
  const role = linkRole(local, peer);
  const device = backboneDevice(network, peer);
  const localPort = checkedLinkPort(net, local, peer, field);
  const remotePort = checkedLinkPort(net, peer, local, field);
  const files = backboneLinkPaths(paths, peer.backboneOffset);
  const managementSocket = v.socketPath("paths.managementSocket", files.managementSocket);
  const tcp = net.proto === "tcp";

  const out = new ConfigWriter(BACKBONE_RULES)
    .comment(`Switchboard backbone link, ${role} end. The agent overwrites this file.`)
    .directive("dev", device)
    .directive("dev-type", "tun");
  if (!tcp) {
    out.directive("proto", "udp").directive("lport", localPort).directive("remote", peer.endpointHost, remotePort);
    // A multi-homed or NATed peer may send from another address than its endpoint; tls-crypt and
    // TLS authenticate every packet before float lets the session follow it.
    out.directive("float");
  } else if (role === "tls-server") {
    out.directive("proto", "tcp-server").directive("lport", localPort);
  } else {
    out.directive("proto", "tcp-client").directive("remote", peer.endpointHost, remotePort).directive("nobind");
    // A link is a switch's lifeline: retry the peer every few seconds at most, never back off to minutes.
    out.directive("connect-retry", 1, 5);
  }
  out
    .comment("Every link of a switch uses its one backbone address, so routes via a peer's address pick its link.")
    .directive("ifconfig", formatIpv4(local.backbone), formatIpv4(peer.backbone))
    .directive(role);
  if (role === "tls-server") out.directive("dh", "none");
  out
    .directive("ca", v.absolutePath("paths.caCert", paths.caCert))
    .directive("cert", v.absolutePath("paths.backboneCert", paths.backboneCert))
    .directive("key", v.absolutePath("paths.backboneKey", paths.backboneKey));
  if (role === "tls-server") out.directive("remote-cert-eku", SERVER_AUTH_OID);
  else out.directive("remote-cert-tls", "server");
  out
    .directive("verify-x509-name", backboneCommonName(peer), "name")
    .directive("tls-crypt", v.absolutePath("paths.backboneTlsCryptKey", paths.backboneTlsCryptKey))
    .directive("crl-verify", v.absolutePath("paths.crl", paths.crl))
    .directive("data-ciphers", net.ciphers)
    .directive("allow-compression", "no")
    .directive("keepalive", net.keepaliveInterval, net.keepaliveTimeout);
  if (!tcp) out.directive("explicit-exit-notify", 1);
  out
    .comment("Runs unprivileged once the keys are read and the device is open (see server-config.ts).")
    .directive("user", OPENVPN_USER)
    .directive("group", OPENVPN_GROUP)
    .directive("persist-key")
    .directive("persist-tun")
    .directive("management", managementSocket, "unix")
    // The socket is world-writable (OpenVPN binds it so): only root, the agent, may connect.
    .directive("management-client-user", MANAGEMENT_USER)
    .directive("verb", 3);
  return {
    switchId: local.id,
    peerId: peer.id,
    role,
    device,
    localPort,
    remotePort,
    configPath: v.absolutePath("paths.baseDir", files.config),
    managementSocket,
    config: out.toString(),
  };
}

/** This switch's end of its link to `peer` (what one agent receives). */
export function renderBackboneEndConfig(
  network: RenderNetwork,
  local: RenderSwitch,
  peer: RenderSwitch,
  paths: RenderPaths,
): BackboneEnd {
  const net = checkNetwork(network);
  const [self, other] = checkSwitchSet(net, [local, peer], "link") as [CheckedSwitch, CheckedSwitch];
  return renderEnd(network, self, other, paths, "link[1]");
}

/** Both ends of the link between `a` and `b`; `pathsB` defaults to the same layout as `pathsA`. */
export function renderBackboneLinkConfigs(
  network: RenderNetwork,
  a: RenderSwitch,
  b: RenderSwitch,
  pathsA: RenderPaths,
  pathsB: RenderPaths = pathsA,
): { readonly a: BackboneEnd; readonly b: BackboneEnd } {
  const net = checkNetwork(network);
  const [ca, cb] = checkSwitchSet(net, [a, b], "link") as [CheckedSwitch, CheckedSwitch];
  return { a: renderEnd(network, ca, cb, pathsA, "link[1]"), b: renderEnd(network, cb, ca, pathsB, "link[0]") };
}

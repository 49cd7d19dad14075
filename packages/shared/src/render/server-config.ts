import { formatIpv4 } from "../net/ipv4.ts";
import { checkNetwork, checkSwitchSet, routeArgs } from "./checks.ts";
import { ConfigWriter } from "./config-writer.ts";
import { MANAGEMENT_USER, OPENVPN_GROUP, OPENVPN_USER, SERVER_RULES } from "./directive-rules.ts";
import { RenderError } from "./errors.ts";
import type { RenderNetwork, RenderPaths, RenderSwitch } from "./model.ts";
import { serverDeviceName } from "./naming.ts";
import * as v from "./validate.ts";

/**
 * A switch's OpenVPN server, with the `server` helper spelled out: the helper would give every
 * switch the subnet's first address and the whole pool, while here all switches share one data
 * subnet, each with its own address and pool slice (checked against `allSwitches`).
 *
 * Nothing in it depends on hosts: any change here needs a SIGHUP, which drops every client,
 * whereas client-config files are read at each connect. Kernel routes for subnets behind hosts
 * are therefore not `route` lines here: they must follow the host from switch to switch (via the
 * tun device where it is connected, via the backbone elsewhere), like the /32 host routes the
 * agent programs.
 */
export function renderSwitchServerConfig(
  network: RenderNetwork,
  sw: RenderSwitch,
  allSwitches: readonly RenderSwitch[],
  paths: RenderPaths,
): string {
  const net = checkNetwork(network);
  const switches = checkSwitchSet(net, allSwitches, "allSwitches");
  if (typeof sw !== "object" || sw === null) throw new RenderError("switch", "must be an object");
  const self = switches.find((candidate) => candidate.id === sw.id);
  if (self === undefined) throw new RenderError("switch.id", "must be one of allSwitches");
  const mask = net.dataMask;
  const own = formatIpv4(self.data);

  const out = new ConfigWriter(SERVER_RULES)
    .comment("Switchboard switch server. Rendered by the API; the agent overwrites this file.")
    .directive("mode", "server")
    .directive("tls-server")
    .directive("dev", serverDeviceName(network))
    .directive("dev-type", "tun")
    .directive("topology", "subnet")
    .directive("proto", net.proto === "udp" ? "udp" : "tcp-server")
    .directive("port", net.port)
    .directive("ifconfig", own, mask);
  if (self.pool) {
    out
      .comment("Each switch hands out its own slice; static host addresses lie outside every slice.")
      .directive("ifconfig-pool", formatIpv4(self.pool.start), formatIpv4(self.pool.end), mask);
  }
  out.push("topology", "subnet").push("route-gateway", own);
  for (const route of net.pushRoutes) out.push("route", ...routeArgs(route));
  for (const dns of net.dnsServers) out.push("dhcp-option", "DNS", dns);
  if (net.dnsDomain !== undefined) out.push("dhcp-option", "DOMAIN", net.dnsDomain);

  out
    .comment("Every enabled host has a file in ccd; ccd-exclusive refuses any other certificate")
    .comment("(unknown, removed or disabled hosts, backbone certificates) with AUTH_FAILED.")
    .directive("client-config-dir", v.absolutePath("paths.ccdDir", paths.ccdDir))
    .directive("ccd-exclusive")
    .directive("ca", v.absolutePath("paths.caCert", paths.caCert))
    .directive("cert", v.absolutePath("paths.serverCert", paths.serverCert))
    .directive("key", v.absolutePath("paths.serverKey", paths.serverKey))
    .directive("dh", "none")
    .directive("tls-crypt", v.absolutePath("paths.tlsCryptKey", paths.tlsCryptKey))
    .directive("remote-cert-tls", "client")
    .comment("Re-read at each connect and renegotiation when the file changes.")
    .directive("crl-verify", v.absolutePath("paths.crl", paths.crl))
    .directive("data-ciphers", net.ciphers)
    .comment("Compression enables VORACLE-style attacks; refuse it even if a client asks.")
    .directive("allow-compression", "no")
    .directive("keepalive", net.keepaliveInterval, net.keepaliveTimeout);
  if (net.proto === "udp") {
    out
      .comment("On shutdown or restart, tell clients to move to their next remote at once.")
      .directive("explicit-exit-notify", 2);
  }
  const hook = v.absolutePath("paths.hookCommand", paths.hookCommand);
  out
    .comment("The hook reports connects and disconnects to the agent at once.")
    .directive("script-security", 2)
    .directive("client-connect", hook)
    .directive("client-disconnect", hook)
    .directive("management", v.socketPath("paths.managementSocket", paths.managementSocket), "unix")
    // The socket is world-writable (OpenVPN binds it so): only root, the agent, may connect.
    .directive("management-client-user", MANAGEMENT_USER)
    .directive("status", v.absolutePath("paths.statusFile", paths.statusFile), 10)
    .directive("status-version", 3)
    .comment("Root only to start: OpenVPN reads its keys and opens the tun device and sockets, then")
    .comment("runs as nobody; persist-key and persist-tun keep them across restarts it makes itself.")
    .directive("user", OPENVPN_USER)
    .directive("group", OPENVPN_GROUP)
    .directive("persist-key")
    .directive("persist-tun")
    .directive("verb", 3);
  return out.toString();
}

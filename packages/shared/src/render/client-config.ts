import { cidrWithin } from "../net/cidr.ts";
import { formatIpv4 } from "../net/ipv4.ts";
import { type CheckedNetwork, checkHost, checkNetwork, checkSwitchSet, routeArgs } from "./checks.ts";
import { ConfigWriter } from "./config-writer.ts";
import type { RenderHost, RenderNetwork, RenderSwitch } from "./model.ts";

/**
 * A host's client-config-dir file (named `ccdFileName(host)`), the same on every switch so a host
 * keeps its address and routes wherever it connects.
 *
 * A disabled host gets no file (undefined: the agent removes any old one). The servers run with
 * ccd-exclusive, so its certificate then gets AUTH_FAILED and the client stops. A file holding
 * `disable` was tried and is worse: OpenVPN 2.6 answers it with RESTART,[N], so the client moves
 * to the next switch every second or so, forever.
 *
 * `switches` (all switches of the network) lets the static address be checked against every
 * switch address and pool slice: OpenVPN does not do that without the `server` helper.
 */
export function renderClientConfigFile(
  network: RenderNetwork,
  host: RenderHost,
  switches: readonly RenderSwitch[] = [],
): string | undefined {
  return clientConfigRenderer(network, switches)(host);
}

/**
 * The same rendering for many hosts of one network: the network and its switch set are checked
 * once, not once per host (for 50,000 hosts and 50 switches that is the difference between
 * under a second and minutes). Every host is still checked against every switch.
 */
export function clientConfigRenderer(
  network: RenderNetwork,
  switches: readonly RenderSwitch[] = [],
): (host: RenderHost) => string | undefined {
  const net = checkNetwork(network);
  const set = checkSwitchSet(net, switches);
  return (host) => renderChecked(net, checkHost(net, host, set));
}

function renderChecked(net: CheckedNetwork, checked: ReturnType<typeof checkHost>): string | undefined {
  if (!checked.enabled) return undefined;

  const out = new ConfigWriter()
    .comment(`Switchboard host ${checked.commonName}. The agent overwrites this file.`)
    .directive("ifconfig-push", formatIpv4(checked.address), net.dataMask);
  // A network-wide route into the host's own LAN would pull that LAN into the tunnel on the host.
  for (const route of net.pushRoutes) {
    if (checked.subnets.some((subnet) => cidrWithin(route, subnet))) out.pushRemove("route", ...routeArgs(route));
  }
  for (const route of checked.pushRoutes) out.push("route", ...routeArgs(route));
  for (const subnet of checked.subnets) out.directive("iroute", ...routeArgs(subnet));
  return out.toString();
}

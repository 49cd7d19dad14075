import {
  clientConfigRenderer,
  DEFAULT_AGENT_DIR,
  type DesiredBackboneLink,
  type DesiredHost,
  networkAddress,
  networkTag,
  parseCidr,
  parseIpv4,
  type RenderNetwork,
  type RenderSwitch,
  type RouteHost,
  renderBackboneEndConfig,
  renderSwitchServerConfig,
  serverDeviceName,
  switchPaths,
} from "@switchboard/shared";
import type { Certificate, Host as HostRow, PrismaClient } from "../../../generated/prisma/client.ts";
import { renderHost, renderNetwork, renderSwitch } from "../../configs/render-mapping.ts";
import type { CertificateAuthority } from "../../pki/certificate-authority.ts";
import type { SwitchParts } from "./desired-state.ts";

/**
 * Everything one network's switches should have, read from the database at one revision and then
 * patched host by host as writes commit (state-dispatcher.ts). Hosts are rendered once and shared
 * by every switch (a ccd file is the same everywhere); a switch's own files (with its private keys,
 * unsealed here) are rendered only when its agent asks, and only ever go to that switch.
 */
export interface NetworkView {
  readonly networkId: string;
  /** The revision the view is at: loaded, or the last change patched in. */
  revision: number;
  readonly network: RenderNetwork;
  readonly switches: readonly RenderSwitch[];
  /** Every host's files, in no meaningful order; rebuilt from the host map after a patch, when read. */
  readonly hosts: readonly DesiredHost[];
  readonly routeHosts: readonly RouteHost[];
  readonly hostIds: ReadonlyMap<string, string>;
  /** Problems rendering hosts (such a host gets no ccd file, so ccd-exclusive refuses it). */
  readonly warnings: readonly string[];
  /** The switch's own parts; throws (RenderError, missing certificate) when they cannot be built. */
  partsFor(switchId: string): SwitchParts;
  /** One host as the switches should have it, if it is in the view. */
  hostNamed(commonName: string): { readonly desired: DesiredHost; readonly route: RouteHost } | undefined;
  /**
   * Puts a committed host row in (re-rendering its ccd file) and returns its files, or undefined
   * when it cannot be rendered: like at load, it is then left out and a warning returned.
   */
  putHost(row: HostRow): { desired?: DesiredHost; warning?: string };
  removeHost(commonName: string): boolean;
}

interface ViewHost {
  readonly id: string;
  readonly desired: DesiredHost;
  readonly route: RouteHost;
}

export async function loadNetworkView(
  prisma: PrismaClient,
  authority: CertificateAuthority,
  networkId: string,
): Promise<NetworkView | undefined> {
  const row = await prisma.network.findUnique({
    where: { id: networkId },
    include: { switches: true, hosts: { orderBy: { commonName: "asc" } } },
  });
  if (!row) return undefined;
  const certificates = await prisma.certificate.findMany({
    where: { networkId, revokedAt: null, kind: { in: ["ca", "server", "backbone"] } },
    orderBy: { createdAt: "desc" },
  });
  const network = renderNetwork(row);
  const switches = row.switches.map(renderSwitch);
  const warnings: string[] = [];
  const byName = new Map<string, ViewHost>();
  const hostIds = new Map<string, string>();
  const renderClientConfig = clientConfigRenderer(network, switches);
  /** Renders one host into the maps; a host that cannot be rendered is left out (its id stays known). */
  const put = (hostRow: HostRow): { desired?: DesiredHost; warning?: string } => {
    const host = renderHost(hostRow);
    hostIds.set(host.commonName, hostRow.id);
    let clientConfig: string | null = null;
    try {
      clientConfig = renderClientConfig(host) ?? null;
    } catch (error) {
      // Left out entirely: without a ccd file, ccd-exclusive refuses it. The route computation
      // checks every host it is given, so one host stored before a rule existed must not reach
      // it and stop the routes of the whole network.
      byName.delete(host.commonName);
      return { warning: `host ${host.commonName}: ${(error as Error).message}` };
    }
    const desired: DesiredHost = {
      commonName: host.commonName,
      address: host.address,
      subnets: [...host.subnets],
      clientConfig,
    };
    const route: RouteHost = {
      commonName: host.commonName,
      address: host.address,
      subnets: host.subnets,
      enabled: host.enabled && clientConfig !== null,
    };
    byName.set(host.commonName, { id: hostRow.id, desired, route });
    return { desired };
  };
  for (const hostRow of row.hosts) {
    const { warning } = put(hostRow);
    if (warning) warnings.push(warning);
  }
  // The lists every snapshot and full recompute read, rebuilt once after any number of patches.
  let lists: { hosts: DesiredHost[]; routeHosts: RouteHost[] } | undefined;
  const currentLists = () => {
    lists ??= {
      hosts: [...byName.values()].map((h) => h.desired),
      routeHosts: [...byName.values()].map((h) => h.route),
    };
    return lists;
  };

  const paths = switchPaths(`${DEFAULT_AGENT_DIR}/${networkTag(network)}`);
  const backboneBase = networkAddress(parseCidr(row.backboneSubnet) ?? { address: 0, prefix: 32 });
  const ca = certificates.find((c) => c.kind === "ca");
  const own = (switchId: string, kind: "server" | "backbone"): Certificate => {
    const cert = certificates.find((c) => c.kind === kind && c.switchId === switchId);
    if (!cert) throw new Error(`switch ${switchId} has no ${kind} certificate in force`);
    return cert;
  };
  const keyOf = (cert: Certificate) => {
    const key = authority.privateKeyOf(cert);
    if (!key) throw new Error(`the ${cert.kind} certificate ${cert.serial} has no private key here`);
    return key;
  };
  const parts = new Map<string, SwitchParts>();

  return {
    networkId,
    revision: row.revision,
    network,
    switches,
    get hosts() {
      return currentLists().hosts;
    },
    get routeHosts() {
      return currentLists().routeHosts;
    },
    hostIds,
    warnings,
    hostNamed: (commonName) => byName.get(commonName),
    putHost(hostRow) {
      lists = undefined;
      return put(hostRow);
    },
    removeHost(commonName) {
      lists = undefined;
      hostIds.delete(commonName);
      return byName.delete(commonName);
    },
    partsFor(switchId) {
      const cached = parts.get(switchId);
      if (cached) return cached;
      const self = switches.find((sw) => sw.id === switchId);
      if (!self) throw new Error(`switch ${switchId} is not in network ${networkId}`);
      if (!ca) throw new Error(`network ${networkId} has no certificate authority`);
      const tlsCryptKey = authority.tlsCryptKeyOf(row);
      if (!tlsCryptKey) throw new Error(`network ${networkId} has no tls-crypt key`);
      // Added at the API's start for networks from before it (features/pki/backbone-tls-crypt.ts).
      const backboneTlsCryptKey = authority.backboneTlsCryptKeyOf(row);
      if (!backboneTlsCryptKey) throw new Error(`network ${networkId} has no backbone tls-crypt key`);
      const server = own(switchId, "server");
      const backbone = own(switchId, "backbone");
      const links: DesiredBackboneLink[] = self.enabled
        ? switches
            .filter((peer) => peer.id !== switchId && peer.enabled)
            .map((peer) => ({
              peerOffset: (parseIpv4(peer.backboneAddress) ?? 0) - backboneBase,
              config: renderBackboneEndConfig(network, self, peer, paths).config,
            }))
            .sort((a, b) => a.peerOffset - b.peerOffset)
        : [];
      const built: SwitchParts = {
        serverDevice: serverDeviceName(network),
        server: {
          serverConfig: renderSwitchServerConfig(network, self, switches, paths),
          caCert: ca.pem,
          serverCert: server.pem,
          serverKey: keyOf(server),
          crl: row.crlPem ?? "",
          tlsCryptKey,
          backboneTlsCryptKey,
          backboneCert: backbone.pem,
          backboneKey: keyOf(backbone),
        },
        links,
      };
      parts.set(switchId, built);
      return built;
    },
  };
}

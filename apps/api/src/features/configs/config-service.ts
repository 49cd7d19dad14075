import {
  type BackboneLinkPreview,
  type ClientConfigFile,
  ccdFileName,
  DEFAULT_AGENT_DIR,
  networkTag,
  renderBackboneEndConfig,
  renderClientConfigFile,
  renderSwitchServerConfig,
  switchPaths,
} from "@switchboard/shared";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { notFound } from "../../http/errors.ts";
import { renderHost, renderNetwork, renderSwitch } from "./render-mapping.ts";

export function configService(prisma: PrismaClient) {
  async function loadSwitch(id: string) {
    const row = await prisma.switch.findUnique({
      where: { id },
      include: { network: { include: { switches: true } } },
    });
    if (!row) throw notFound("switch", id);
    const network = renderNetwork(row.network);
    const paths = switchPaths(`${DEFAULT_AGENT_DIR}/${networkTag(network)}`);
    return { row, network, paths, switches: row.network.switches.map(renderSwitch) };
  }

  return {
    async serverConfig(switchId: string): Promise<string> {
      const { row, network, paths, switches } = await loadSwitch(switchId);
      return renderSwitchServerConfig(network, renderSwitch(row), switches, paths);
    },

    /** This switch's end of a link to every other enabled switch of its network. */
    async backboneLinks(switchId: string): Promise<BackboneLinkPreview[]> {
      const { row, network, paths } = await loadSwitch(switchId);
      const self = renderSwitch(row);
      const peers = row.network.switches
        .filter((s) => s.id !== row.id && s.enabled)
        .sort((a, b) => a.name.localeCompare(b.name));
      return peers.map((peer) => {
        const end = renderBackboneEndConfig(network, self, renderSwitch(peer), paths);
        return {
          peerId: peer.id,
          peerName: peer.name,
          role: end.role,
          device: end.device,
          localPort: end.localPort,
          remotePort: end.remotePort,
          configPath: end.configPath,
          config: end.config,
        };
      });
    },

    async clientConfig(hostId: string): Promise<ClientConfigFile> {
      const row = await prisma.host.findUnique({
        where: { id: hostId },
        include: { network: { include: { switches: true } } },
      });
      if (!row) throw notFound("host", hostId);
      const host = renderHost(row);
      const content = renderClientConfigFile(renderNetwork(row.network), host, row.network.switches.map(renderSwitch));
      return { fileName: ccdFileName(host), content: content ?? null };
    },
  };
}

export type ConfigService = ReturnType<typeof configService>;

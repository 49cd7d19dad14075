import {
  type BackboneLinkPreview,
  type ClientConfigFile,
  ccdFileName,
  DEFAULT_AGENT_DIR,
  networkTag,
  RenderError,
  renderBackboneEndConfig,
  renderClientConfigFile,
  renderSwitchServerConfig,
  switchPaths,
} from "@switchboard/shared";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { HttpError } from "../../http/error-handler.ts";
import { notFound } from "../../http/errors.ts";
import { renderHost, renderNetwork, renderSwitch } from "./render-mapping.ts";

/** A render rule the stored data breaks: the data must change before the config can exist. */
function unrenderable(error: unknown): never {
  if (error instanceof RenderError) throw new HttpError(409, `cannot render the config: ${error.message}`);
  throw error;
}

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
      try {
        return renderSwitchServerConfig(network, renderSwitch(row), switches, paths);
      } catch (error) {
        return unrenderable(error);
      }
    },

    /** This switch's end of a link to every other enabled switch of its network. */
    async backboneLinks(switchId: string): Promise<BackboneLinkPreview[]> {
      const { row, network, paths } = await loadSwitch(switchId);
      const self = renderSwitch(row);
      const peers = row.network.switches
        .filter((s) => s.id !== row.id && s.enabled)
        .sort((a, b) => a.name.localeCompare(b.name));
      try {
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
      } catch (error) {
        return unrenderable(error);
      }
    },

    async clientConfig(hostId: string): Promise<ClientConfigFile> {
      const row = await prisma.host.findUnique({
        where: { id: hostId },
        include: { network: { include: { switches: true } } },
      });
      if (!row) throw notFound("host", hostId);
      const host = renderHost(row);
      try {
        const content = renderClientConfigFile(
          renderNetwork(row.network),
          host,
          row.network.switches.map(renderSwitch),
        );
        return { fileName: ccdFileName(host), content: content ?? null };
      } catch (error) {
        return unrenderable(error);
      }
    },
  };
}

export type ConfigService = ReturnType<typeof configService>;

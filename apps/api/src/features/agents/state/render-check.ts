import {
  DEFAULT_AGENT_DIR,
  networkTag,
  RenderError,
  type RenderNetwork,
  type RenderSwitch,
  renderBackboneEndConfig,
  renderSwitchServerConfig,
  switchPaths,
} from "@switchboard/shared";

/**
 * Why the network's stored data cannot render this switch's server config or its backbone
 * links (e.g. a backbone subnet stored before the API refused /8-/15), or null when it can. The
 * API refuses such values now; this names what is left over from before, where the desired-state
 * builder would otherwise just send the agent nothing. Pure and cheap: one network, its switches.
 */
export function switchRenderError(
  network: RenderNetwork,
  switches: readonly RenderSwitch[],
  switchId: string,
): string | null {
  const self = switches.find((sw) => sw.id === switchId);
  if (!self) return null;
  try {
    const paths = switchPaths(`${DEFAULT_AGENT_DIR}/${networkTag(network)}`);
    renderSwitchServerConfig(network, self, switches, paths);
    if (self.enabled) {
      for (const peer of switches) {
        if (peer.id !== self.id && peer.enabled) renderBackboneEndConfig(network, self, peer, paths);
      }
    }
    return null;
  } catch (error) {
    if (error instanceof RenderError) return `cannot render: ${error.message}`;
    throw error;
  }
}

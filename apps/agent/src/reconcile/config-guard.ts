import {
  type AgentError,
  checkRenderedConfig,
  DEFAULT_AGENT_DIR,
  type DesiredState,
  type RuleContext,
  switchPaths,
} from "@switchboard/shared";
import { linkConfigPath, SERVER_FILES } from "./layout.ts";

/**
 * Defence in depth against a compromised API: the server and backbone configs of a desired
 * state must hold only what packages/shared renders (render/directive-rules.ts), naming this
 * switch's own files, before anything of that state is written, cached or run. A refused state
 * leaves the switch exactly as it was.
 *
 * Which folder the configs must name: the API renders paths under DEFAULT_AGENT_DIR/<network
 * tag> (the folder it names at enrollment, which is the agent's base directory on a switch);
 * agents whose base directory is elsewhere (tests) get configs rendered for that directory.
 * Either way every path of every config must be that one folder's.
 */

const SERVER_DEVICE = /^sbs-([0-9a-z]{5})$/;
/** Enough to find the problem; a hostile config could otherwise fill the ack. */
const MAX_PROBLEMS_PER_FILE = 20;

function folderOf(state: DesiredState, baseDir: string, tag: string): string {
  const rendered = `${DEFAULT_AGENT_DIR}/${tag}`;
  const names = (dir: string) => state.server.serverConfig.split("\n").includes(`client-config-dir ${dir}/ccd`);
  return !names(baseDir) && names(rendered) ? rendered : baseDir;
}

/** Every reason to refuse `state`; empty when its configs may be written. */
export function checkStateConfigs(state: DesiredState, baseDir: string): AgentError[] {
  const tag = SERVER_DEVICE.exec(state.serverDevice)?.[1];
  if (tag === undefined) {
    return [{ scope: "protocol", target: "serverDevice", message: "must be sbs-<network tag>" }];
  }
  let paths: RuleContext["paths"];
  try {
    paths = switchPaths(folderOf(state, baseDir, tag));
  } catch (error) {
    return [{ scope: "protocol", message: `base directory: ${(error as Error).message}` }];
  }
  const errors: AgentError[] = [];
  const check = (target: string, kind: "server" | "backbone", text: string, peerOffset?: number) => {
    const ctx: RuleContext = { paths, networkTag: tag, ...(peerOffset === undefined ? {} : { peerOffset }) };
    for (const problem of checkRenderedConfig(kind, text, ctx).slice(0, MAX_PROBLEMS_PER_FILE)) {
      const at = problem.line === 0 ? "" : `line ${problem.line}: `;
      errors.push({ scope: "protocol", target, message: `refused: ${at}${problem.message}` });
    }
  };
  check(SERVER_FILES.serverConfig, "server", state.server.serverConfig);
  for (const link of state.links) check(linkConfigPath(link.peerOffset), "backbone", link.config, link.peerOffset);
  return errors;
}

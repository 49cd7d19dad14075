import { chmod, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { DEFAULT_AGENT_DIR } from "@switchboard/shared";

/**
 * OpenVPN runs as nobody once started, and then still opens files in the switch's folder: a
 * client's ccd file at each connect, the CRL when it changed, the hook program. So every
 * directory from / down to the folder must let others pass (o+x; listing is not needed). The
 * agent's own tree (DEFAULT_AGENT_DIR, where enrollment made the state folder 0700, and the
 * base directory) is opened for passing here; what it holds stays protected by the files' own
 * modes (keys and the credential 0600). A directory elsewhere is only reported: changing the
 * mode of someone else's folder is not the agent's call.
 */
export async function letOpenVpnReach(
  baseDir: string,
  log: { info(message: string): void; warn(message: string): void },
): Promise<void> {
  const chain: string[] = [];
  for (let dir = baseDir; ; dir = dirname(dir)) {
    chain.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of chain.reverse()) {
    const mode = (await stat(dir)).mode & 0o7777;
    if ((mode & 0o001) !== 0) continue;
    const ours = dir === baseDir || dir === DEFAULT_AGENT_DIR || dir.startsWith(`${DEFAULT_AGENT_DIR}/`);
    if (!ours) {
      log.warn(`OpenVPN (running as nobody) cannot pass through ${dir}: give it o+x, or move the base directory`);
      continue;
    }
    await chmod(dir, mode | 0o001);
    log.info(`${dir}: others may pass through now (OpenVPN runs as nobody)`);
  }
}

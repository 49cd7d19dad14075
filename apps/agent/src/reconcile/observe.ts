import type { DesiredState } from "@switchboard/shared";
import type { FileWriter } from "../files/file-writer.ts";
import { CCD_DIR, ccdPath, HOOK_PROGRAM, linkConfigPath, linkOffsetOf, SERVER_FILES } from "./layout.ts";
import type { ObservedSession, PlanObserved } from "./plan.ts";

const READ_PARALLEL = 16;

/**
 * Reads what plan() compares against: the managed files' hashes and modes, what lies in ccd/
 * and at the top of the base directory. Read-only; the sessions come from the session tracker.
 */
export async function observe(
  files: Pick<FileWriter, "observeMany" | "list">,
  state: DesiredState,
  sessions: readonly ObservedSession[],
): Promise<PlanObserved> {
  const ccdFiles = await files.list(CCD_DIR);
  const topFiles = await files.list("");
  const paths = new Set<string>([
    ...Object.values(SERVER_FILES),
    HOOK_PROGRAM,
    ...ccdFiles.map((name) => `${CCD_DIR}/${name}`),
    ...state.hosts.map((host) => ccdPath(host.commonName)),
    ...state.links.map((link) => linkConfigPath(link.peerOffset)),
    ...topFiles.filter((name) => linkOffsetOf(name) !== undefined),
  ]);
  // A few reads at once: one after another, 50,000 ccd files took seconds of waiting on the disk.
  const observed = await files.observeMany([...paths], READ_PARALLEL);
  return { files: observed, ccdFiles, topFiles, sessions };
}

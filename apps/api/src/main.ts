/**
 * `pnpm start` and `node --import tsx apps/api/src/main.ts`: the same as `switchboard serve`
 * (src/cli/main.ts is the whole command line).
 */
import { runCommand } from "./cli/cli-error.ts";
import { serve } from "./cli/serve.ts";

await runCommand(serve);

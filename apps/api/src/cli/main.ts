#!/usr/bin/env node
/** Entry of `switchboard` (the package's /usr/bin/switchboard runs this file); commands.ts has the commands. */
import { runCommand } from "./cli-error.ts";
import { main } from "./commands.ts";

await runCommand(() => main(process.argv.slice(2)));

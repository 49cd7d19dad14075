/**
 * The API + console as files for /usr/lib/switchboard: one esbuild bundle of the CLI
 * (apps/api/src/cli/main.ts, with Fastify, Prisma's Rust-free client and its WebAssembly query
 * compiler inlined), the few packages a bundle cannot carry copied beside it, the SQL
 * migrations, the console's build, and a copy of this Node binary.
 *
 * Why a bundle and not `pnpm deploy --prod`: the deploy folder measured 267 MB here (the
 * generated client's @prisma/client peer-depends on the prisma CLI and TypeScript), and it would
 * still need tsx to run the TypeScript sources.
 *
 * The layout mirrors the repository on purpose: the code finds the console and the migrations
 * relative to its own file (import.meta.url), and from apps/api/src/cli/ those are
 * ../../../web/dist and ../../../../prisma/migrations, as in a checkout.
 */
import { cpSync, mkdirSync, realpathSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { build } from "esbuild";

/**
 * Left out of the bundle, copied as packages: PGlite loads its WebAssembly and data files from
 * its own folder; argon2 is a native addon (its prebuilt linux-x64 package beside it).
 */
const COPIED_PACKAGES = ["@electric-sql/pglite", "@node-rs/argon2", "@node-rs/argon2-linux-x64-gnu"];

export async function buildServerTree(repo: string, root: string): Promise<void> {
  const app = join(root, "apps/api/src/cli/main.mjs");
  await build({
    entryPoints: [join(repo, "apps/api/src/cli/main.ts")],
    outfile: app,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    external: ["@electric-sql/pglite", "@electric-sql/pglite/*", "@node-rs/argon2", "pg-native"],
    // CommonJS packages in an ESM bundle call require(); give them Node's.
    banner: {
      js: "import { createRequire as __switchboardRequire } from 'node:module'; const require = __switchboardRequire(import.meta.url);",
    },
    legalComments: "none",
    logLevel: "warning",
  });
  const apiModules = join(repo, "apps/api/node_modules");
  for (const name of COPIED_PACKAGES) {
    // pnpm links: the real folder is in the store; argon2's platform package sits beside argon2 there.
    const from = name.endsWith("-gnu")
      ? join(dirname(realpathSync(join(apiModules, "@node-rs/argon2"))), "argon2-linux-x64-gnu")
      : realpathSync(join(apiModules, name));
    cpSync(from, join(root, "node_modules", name), { recursive: true, dereference: true });
  }
  // @fastify/swagger-ui reads its page from <__dirname>/static; in the bundle __dirname is the
  // bundle's folder (the generated Prisma client sets globalThis.__dirname from import.meta.url).
  // Its routes file (lib/routes.js) serves the page's scripts from <__dirname>/../static: a link.
  const swaggerUi = realpathSync(join(apiModules, "@fastify/swagger-ui"));
  cpSync(join(swaggerUi, "static"), join(dirname(app), "static"), { recursive: true });
  symlinkSync("cli/static", join(dirname(dirname(app)), "static"));
  cpSync(join(repo, "prisma/migrations"), join(root, "prisma/migrations"), { recursive: true });
  cpSync(join(repo, "apps/web/dist"), join(root, "apps/web/dist"), { recursive: true });
  mkdirSync(join(root, "bin"), { recursive: true });
  cpSync(process.execPath, join(root, "bin/node"));
}

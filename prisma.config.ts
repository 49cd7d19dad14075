// Prisma CLI configuration. The adapter makes the CLI use its WebAssembly engines, so no
// native engine is downloaded (see ../shared/RECIPES.md). DATABASE_URL must be set for every
// prisma command; a placeholder is enough for `prisma generate`.
import { PrismaPg } from "@prisma/adapter-pg";
import { defineConfig } from "prisma/config";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});

import type { FastifyBaseLogger } from "fastify";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { CertificateAuthority } from "./certificate-authority.ts";

/**
 * The backbone links have their own tls-crypt key since issue 13 (before, they shared the data
 * servers' key, which every host profile carries). A migration cannot make one per existing
 * network (the key is random and sealed under the master key, which SQL never sees), so the API
 * adds the missing ones when it starts, before it serves any switch: reads stay free of writes,
 * and a network is never seen without its key after the first start on the new version.
 */
export async function addMissingBackboneKeys(
  prisma: PrismaClient,
  authority: CertificateAuthority,
  log: FastifyBaseLogger,
): Promise<void> {
  const added = await authority.addMissingBackboneKeys(prisma);
  if (added > 0) log.info({ networks: added }, "generated backbone tls-crypt keys for networks that had none");
}

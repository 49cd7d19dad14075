import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { notFound } from "../http/errors.ts";

export type Tx = Prisma.TransactionClient;

/** Interactive transaction with a bounded wait, so a stuck lock answers 5xx instead of hanging. */
export function inTransaction<T>(prisma: PrismaClient, work: (tx: Tx) => Promise<T>): Promise<T> {
  return prisma.$transaction(work, { maxWait: 10_000, timeout: 30_000 });
}

/**
 * Locks a network row until the transaction ends. Every write that takes or frees an address of
 * the network goes through this lock, so two requests never hand out the same address; the
 * unique constraints on (networkId, address) are the second line of defence.
 */
export async function lockNetwork(tx: Tx, networkId: string) {
  const locked = await tx.$queryRaw<
    { id: string }[]
  >`SELECT id::text FROM "Network" WHERE id = ${networkId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw notFound("network", networkId);
  return tx.network.findUniqueOrThrow({ where: { id: networkId } });
}

/** Serialises changes to networks' subnets so two networks never overlap, even when created at once. */
export async function lockNetworkSubnets(tx: Tx) {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(${0x5b_0a_2d_02})::text`;
}

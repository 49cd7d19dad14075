import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { notFound } from "../http/errors.ts";

export type Tx = Prisma.TransactionClient;

/** Something to do once a transaction has committed; it gets the client the transaction ran on. */
export type CommitHook = (prisma: PrismaClient) => void;

const commitHooks = new WeakMap<Tx, CommitHook[]>();

/**
 * Interactive transaction with a bounded wait, so a stuck lock answers 5xx instead of hanging.
 * Hooks registered with afterCommit run once it has committed; a rollback drops them.
 */
export async function inTransaction<T>(prisma: PrismaClient, work: (tx: Tx) => Promise<T>): Promise<T> {
  const hooks: CommitHook[] = [];
  const result = await prisma.$transaction(
    (tx) => {
      commitHooks.set(tx, hooks);
      return work(tx);
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  for (const hook of hooks) {
    try {
      hook(prisma);
    } catch {
      // A hook only tells others about the commit; its failure must not turn a done write into an error.
    }
  }
  return result;
}

/**
 * Runs `hook` after the transaction commits, never when it rolls back: for telling others about
 * a change (the live feed), which must not see what might still be undone.
 */
export function afterCommit(tx: Tx, hook: CommitHook): void {
  const hooks = commitHooks.get(tx);
  if (!hooks) throw new Error("afterCommit needs a transaction opened by inTransaction");
  hooks.push(hook);
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

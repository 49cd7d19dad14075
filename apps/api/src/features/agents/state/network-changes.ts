import type { Tx } from "../../../db/transactions.ts";
import type { Host as HostRow } from "../../../generated/prisma/client.ts";

/**
 * What a committed write changed in a network, told to the state dispatcher so it can patch its
 * cached view instead of reloading the network (state-dispatcher.ts). Each change names the
 * network revision its transaction started from and the one it committed: the dispatcher applies
 * it only on a view at exactly `baseRevision`, and reloads on anything else (a revision gap, a
 * write from another instance, a change it cannot patch).
 */
interface Revisions {
  readonly networkId: string;
  /** The network's revision when the transaction locked it. */
  readonly baseRevision: number;
  /** The revision it committed (read from the same `update ... revision increment`). */
  readonly revision: number;
}

export type NetworkChange =
  /** Created, edited, enabled or disabled: the row as committed. */
  | (Revisions & { readonly kind: "host-upserted"; readonly host: HostRow; readonly previousCommonName?: string })
  | (Revisions & { readonly kind: "host-removed"; readonly commonName: string })
  /**
   * Anything the dispatcher reloads for: a bulk import (thousands of hosts: a reload costs what
   * patching them would), switches, network settings, CRL and certificates.
   */
  | (Revisions & { readonly kind: "reload"; readonly reason: "hosts-imported" | "switch" | "network" | "pki" });

/** Where services tell their changes, after the transaction committed. */
export interface ChangeSink {
  emit(change: NetworkChange): void;
}

/** The sink wired in app.ts: services emit, the dispatcher (once it exists) listens. */
export class ChangeFeed implements ChangeSink {
  private listener: ((change: NetworkChange) => void) | undefined;

  listen(listener: (change: NetworkChange) => void): void {
    this.listener = listener;
  }

  emit(change: NetworkChange): void {
    this.listener?.(change);
  }
}

/** For services used without a dispatcher (tests, scripts): changes go nowhere, the revision poll still works. */
export const NO_CHANGES: ChangeSink = { emit() {} };

/** Bumps the network's revision inside `tx`; returns the reload change to emit once `tx` commits. */
export async function bumpForReload(
  tx: Tx,
  networkId: string,
  baseRevision: number,
  reason: "switch" | "network" | "pki",
): Promise<NetworkChange> {
  const { revision } = await tx.network.update({
    where: { id: networkId },
    data: { revision: { increment: 1 } },
    select: { revision: true },
  });
  return { kind: "reload", reason, networkId, baseRevision, revision };
}

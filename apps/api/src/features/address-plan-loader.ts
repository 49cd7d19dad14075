import {
  type AddressPlan,
  addressPlan,
  freeRanges,
  intToIp,
  type Subnet4,
  type Unavailable,
} from "@switchboard/shared";
import type { Tx } from "../db/transactions.ts";

const switchColumns = { id: true, dataAddress: true, poolStart: true, poolEnd: true } as const;

export interface NetworkAddresses {
  whyUnavailable(
    address: string,
    options?: { ignoreHostId?: string; ignoreSwitchId?: string },
  ): Promise<Unavailable | null>;
  firstFree(): Promise<string | null>;
  whyPoolUnavailable(start: string, end: string, ignoreSwitchId?: string): Promise<Unavailable | null>;
  /** Marks an address as taken for the rest of this request (an import places rows one by one). */
  addHost(id: string, address: string): void;
}

/**
 * Every taken address of one network, in memory: for a bulk import, which places thousands of
 * rows against the same picture. Read inside the transaction that holds the network lock.
 */
export async function loadAllAddresses(tx: Tx, networkId: string, subnet: Subnet4): Promise<NetworkAddresses> {
  const [switches, hosts] = await Promise.all([
    tx.switch.findMany({ where: { networkId }, select: switchColumns }),
    tx.host.findMany({ where: { networkId }, select: { id: true, address: true } }),
  ]);
  const plan: AddressPlan = addressPlan({ subnet, switches, hosts });
  return {
    whyUnavailable: async (address, options) => plan.whyUnavailable(address, options),
    firstFree: async () => plan.firstFree(),
    whyPoolUnavailable: async (start, end, ignoreSwitchId) => plan.whyPoolUnavailable(start, end, ignoreSwitchId),
    addHost: (id, address) => plan.addHost(id, address),
  };
}

/**
 * The same rules for one request at a time, without reading every host: switches (few) are
 * loaded, hosts are asked about with indexed queries. This keeps a single create fast in a
 * network of tens of thousands of hosts.
 */
export async function networkAddresses(tx: Tx, networkId: string, subnet: Subnet4): Promise<NetworkAddresses> {
  const switches = await tx.switch.findMany({ where: { networkId }, select: switchColumns });
  const rules = addressPlan({ subnet, switches, hosts: [] });

  async function hostIn(from: string, to: string, ignoreHostId?: string) {
    return tx.host.findFirst({
      where: { networkId, address: { gte: from, lte: to }, ...(ignoreHostId ? { id: { not: ignoreHostId } } : {}) },
      select: { address: true },
      orderBy: { address: "asc" },
    });
  }

  return {
    addHost() {
      throw new Error("networkAddresses answers one request; use loadAllAddresses for bulk placement");
    },
    async whyUnavailable(address, options = {}) {
      const why = rules.whyUnavailable(address, options);
      if (why) return why;
      return (await hostIn(address, address, options.ignoreHostId))
        ? { rule: "is already used by another host", taken: true }
        : null;
    },
    async firstFree() {
      for (const [from, to] of freeRanges(subnet, switches)) {
        // The lowest address in [from, to] that no host has: `from` itself, or the first host
        // whose successor is free. One ordered pass over the (networkId, address) index.
        const rows = await tx.$queryRaw<{ free: bigint | null }[]>`
          WITH taken AS (
            SELECT ("address" - '0.0.0.0'::inet) AS n FROM "Host"
            WHERE "networkId" = ${networkId}::uuid AND "address" >= ${intToIp(from)}::inet AND "address" <= ${intToIp(to)}::inet
          )
          SELECT CASE
            WHEN NOT EXISTS (SELECT 1 FROM taken WHERE n = ${from}::bigint) THEN ${from}::bigint
            ELSE (SELECT min(n) + 1 FROM (SELECT n, lead(n) OVER (ORDER BY n) AS next FROM taken) g
                  WHERE (next IS NULL OR next <> n + 1) AND n < ${to}::bigint)
          END AS free`;
        const free = rows[0]?.free;
        if (free !== null && free !== undefined) return intToIp(Number(free));
      }
      return null;
    },
    async whyPoolUnavailable(start, end, ignoreSwitchId) {
      const why = rules.whyPoolUnavailable(start, end, ignoreSwitchId);
      if (why) return why;
      const host = await hostIn(start, end);
      return host ? { rule: `contains the host address ${host.address}`, taken: true } : null;
    },
  };
}

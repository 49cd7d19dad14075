import { type AddressPlan, addressPlan, type Subnet4 } from "@switchboard/shared";
import type { Tx } from "../db/transactions.ts";

/** The taken addresses of one network, read inside the transaction that holds its lock. */
export async function loadAddressPlan(tx: Tx, networkId: string, subnet: Subnet4): Promise<AddressPlan> {
  const [switches, hosts] = await Promise.all([
    tx.switch.findMany({
      where: { networkId },
      select: { id: true, dataAddress: true, poolStart: true, poolEnd: true },
    }),
    tx.host.findMany({ where: { networkId }, select: { id: true, address: true } }),
  ]);
  return addressPlan({ subnet, switches, hosts });
}

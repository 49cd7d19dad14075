import {
  backboneCommonName,
  contains,
  fieldRules,
  intToIp,
  ipToInt,
  type Switch,
  type SwitchCreate,
  type SwitchUpdate,
} from "@switchboard/shared";
import { inTransaction, lockNetwork, type Tx } from "../../db/transactions.ts";
import type { PrismaClient, Switch as SwitchRow } from "../../generated/prisma/client.ts";
import { badRequest, conflict, notFound, refuse } from "../../http/errors.ts";
import { networkAddresses } from "../address-plan-loader.ts";
import { bumpForReload, type ChangeSink, type NetworkChange, NO_CHANGES } from "../agents/state/network-changes.ts";
import { type AuditContext, recordAudit } from "../audit/audit-log.ts";
import { pick } from "../audit/pick.ts";
import type { CertificateAuthority } from "../pki/certificate-authority.ts";
import { renderRule } from "../render-rules.ts";
import { requireSubnet } from "../subnet-rules.ts";
import { checkSetRenders } from "./switch-set-check.ts";

export function toSwitch(row: SwitchRow): Switch {
  return {
    id: row.id,
    networkId: row.networkId,
    name: row.name,
    endpointHost: row.endpointHost,
    endpointPort: row.endpointPort,
    dataAddress: row.dataAddress,
    pool: row.poolStart && row.poolEnd ? { start: row.poolStart, end: row.poolEnd } : null,
    backboneAddress: row.backboneAddress,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

interface Placement {
  dataAddress?: string;
  pool?: { start: string; end: string } | null;
  backboneAddress?: string;
}

/**
 * Checks (or picks) a switch's data address, pool slice and backbone address against everything
 * else in its network. Runs under the network lock.
 */
async function place(
  tx: Tx,
  network: { id: string; dataSubnet: string; backboneSubnet: string },
  wanted: Placement,
  selfId?: string,
) {
  const data = requireSubnet("network.dataSubnet", network.dataSubnet);
  const plan = await networkAddresses(tx, network.id, data);
  const ignore = selfId ? { ignoreSwitchId: selfId } : {};

  let dataAddress = wanted.dataAddress;
  if (dataAddress === undefined) {
    dataAddress = (await plan.firstFree()) ?? undefined;
    if (!dataAddress) throw conflict("body.dataAddress", `cannot be chosen: no free address left in ${data.cidr}`);
  } else {
    const why = await plan.whyUnavailable(dataAddress, ignore);
    if (why) throw refuse("body.dataAddress", why);
  }

  const pool = wanted.pool ?? null;
  if (pool) {
    const why = await plan.whyPoolUnavailable(pool.start, pool.end, selfId);
    if (why) throw refuse("body.pool", why);
    const own = ipToInt(dataAddress);
    if (own >= ipToInt(pool.start) && own <= ipToInt(pool.end))
      throw badRequest("body.pool", "must not contain the switch's own data address");
  }

  const backbone = requireSubnet("network.backboneSubnet", network.backboneSubnet);
  const taken = await tx.switch.findMany({
    where: { networkId: network.id, ...(selfId ? { id: { not: selfId } } : {}) },
    select: { backboneAddress: true },
  });
  const used = new Set(taken.map((s) => ipToInt(s.backboneAddress)));
  let backboneAddress = wanted.backboneAddress;
  if (backboneAddress === undefined) {
    for (let value = backbone.network + 1; value < backbone.broadcast; value++) {
      if (!used.has(value)) {
        backboneAddress = intToIp(value);
        break;
      }
    }
    if (!backboneAddress)
      throw conflict("body.backboneAddress", `cannot be chosen: no free address left in ${backbone.cidr}`);
  } else {
    const value = ipToInt(backboneAddress);
    if (!contains(backbone, value))
      throw badRequest("body.backboneAddress", `is outside the backbone subnet ${backbone.cidr}`);
    if (value === backbone.network || value === backbone.broadcast) {
      throw badRequest("body.backboneAddress", `is the network or broadcast address of ${backbone.cidr}`);
    }
    if (used.has(value)) throw conflict("body.backboneAddress", "is already used by another switch");
  }
  return { dataAddress, poolStart: pool?.start ?? null, poolEnd: pool?.end ?? null, backboneAddress };
}

export function switchService(
  prisma: PrismaClient,
  authority: CertificateAuthority,
  /** Told once each write committed; the dispatcher reloads the network's view for any switch change. */
  changes: ChangeSink = NO_CHANGES,
) {
  /** Runs a write, then tells its change (set inside) once it committed. */
  async function committing<T>(work: (tx: Tx, told: (change: NetworkChange) => void) => Promise<T>): Promise<T> {
    let change: NetworkChange | undefined;
    const result = await inTransaction(prisma, (tx) =>
      work(tx, (made) => {
        change = made;
      }),
    );
    if (change) changes.emit(change);
    return result;
  }
  async function requireUniqueName(tx: Tx, networkId: string, name: string, selfId?: string) {
    const clash = await tx.switch.findUnique({ where: { networkId_name: { networkId, name } }, select: { id: true } });
    if (clash && clash.id !== selfId)
      throw conflict("body.name", "is already the name of another switch in this network");
  }

  return {
    async list(networkId?: string): Promise<Switch[]> {
      const rows = await prisma.switch.findMany({
        where: networkId ? { networkId } : {},
        orderBy: [{ networkId: "asc" }, { name: "asc" }],
      });
      return rows.map(toSwitch);
    },

    async get(id: string): Promise<Switch> {
      const row = await prisma.switch.findUnique({ where: { id } });
      if (!row) throw notFound("switch", id);
      return toSwitch(row);
    },

    async create(input: SwitchCreate, audit: AuditContext): Promise<Switch> {
      renderRule(() => fieldRules.remoteHost("body.endpointHost", input.endpointHost));
      return committing(async (tx, told) => {
        const network = await lockNetwork(tx, input.networkId).catch((error) => {
          throw error instanceof Error && error.message.includes("does not exist")
            ? badRequest("body.networkId", "is not an existing network")
            : error;
        });
        await requireUniqueName(tx, network.id, input.name);
        const placement = await place(tx, network, input);
        const row = await tx.switch.create({
          data: {
            networkId: network.id,
            name: input.name,
            endpointHost: input.endpointHost,
            endpointPort: input.endpointPort ?? network.port,
            enabled: input.enabled ?? true,
            ...placement,
          },
        });
        await checkSetRenders(tx, network, row, { given: Object.keys(input), creating: true });
        // The server certificate for the data server, the backbone one for links to other switches.
        await authority.issue(tx, {
          networkId: network.id,
          kind: "server",
          commonName: `server.${row.id}`,
          switchId: row.id,
        });
        await authority.issue(tx, {
          networkId: network.id,
          kind: "backbone",
          commonName: backboneCommonName(row),
          switchId: row.id,
        });
        told(await bumpForReload(tx, network.id, network.revision, "switch"));
        await recordAudit(tx, audit, {
          action: "switch.create",
          targetType: "switch",
          targetId: row.id,
          summary: { after: toSwitch(row) },
        });
        return toSwitch(row);
      });
    },

    async update(id: string, patch: SwitchUpdate, audit: AuditContext): Promise<Switch> {
      if (patch.endpointHost !== undefined) {
        renderRule(() => fieldRules.remoteHost("body.endpointHost", patch.endpointHost));
      }
      const existing = await prisma.switch.findUnique({ where: { id }, select: { networkId: true } });
      if (!existing) throw notFound("switch", id);
      return committing(async (tx, told) => {
        const network = await lockNetwork(tx, existing.networkId);
        const current = await tx.switch.findUnique({ where: { id } });
        if (!current) throw notFound("switch", id);
        if (patch.name !== undefined) await requireUniqueName(tx, network.id, patch.name, id);
        const placement = await place(
          tx,
          network,
          {
            dataAddress: patch.dataAddress ?? current.dataAddress,
            pool: patch.pool !== undefined ? patch.pool : toSwitch(current).pool,
            backboneAddress: patch.backboneAddress ?? current.backboneAddress,
          },
          id,
        );
        const { pool: _pool, ...fields } = patch;
        const row = await tx.switch.update({ where: { id }, data: { ...fields, ...placement } });
        await checkSetRenders(tx, network, row, { given: Object.keys(patch), creating: false });
        told(await bumpForReload(tx, network.id, network.revision, "switch"));
        await recordAudit(tx, audit, {
          action: "switch.update",
          targetType: "switch",
          targetId: id,
          summary: {
            before: pick(toSwitch(current), Object.keys(patch)),
            after: pick(toSwitch(row), Object.keys(patch)),
          },
        });
        return toSwitch(row);
      });
    },

    async remove(id: string, audit: AuditContext): Promise<void> {
      await committing(async (tx, told) => {
        const row = await tx.switch.findUnique({ where: { id }, select: { networkId: true, name: true } });
        if (!row) throw notFound("switch", id);
        const network = await lockNetwork(tx, row.networkId);
        await authority.revokeAllOf(tx, { networkId: row.networkId, switchId: id });
        await tx.switch.delete({ where: { id } });
        told(await bumpForReload(tx, row.networkId, network.revision, "switch"));
        await recordAudit(tx, audit, {
          action: "switch.delete",
          targetType: "switch",
          targetId: id,
          summary: { name: row.name, networkId: row.networkId },
        });
      });
    },
  };
}

export type SwitchService = ReturnType<typeof switchService>;

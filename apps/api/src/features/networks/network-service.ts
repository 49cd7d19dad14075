import type { Network, NetworkCreate, NetworkUpdate } from "@switchboard/shared";
import { overlaps } from "@switchboard/shared";
import { inTransaction, lockNetwork, lockNetworkSubnets, type Tx } from "../../db/transactions.ts";
import type { Network as NetworkRow, PrismaClient } from "../../generated/prisma/client.ts";
import { badRequest, conflict, notFound } from "../../http/errors.ts";
import { type AuditContext, recordAudit } from "../audit/audit-log.ts";
import { pick } from "../audit/pick.ts";
import type { CertificateAuthority } from "../pki/certificate-authority.ts";
import { requireRoutes, requireSubnet } from "../subnet-rules.ts";

export function toNetwork(row: NetworkRow): Network {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    dataSubnet: row.dataSubnet,
    backboneSubnet: row.backboneSubnet,
    proto: row.proto,
    port: row.port,
    keepaliveInterval: row.keepaliveInterval,
    keepaliveTimeout: row.keepaliveTimeout,
    dataCiphers: row.dataCiphers as Network["dataCiphers"],
    pushRoutes: row.pushRoutes,
    dnsServers: row.dnsServers,
    dnsDomain: row.dnsDomain,
    revision: row.revision,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

type NetworkShape = Pick<
  NetworkRow,
  "dataSubnet" | "backboneSubnet" | "keepaliveInterval" | "keepaliveTimeout" | "pushRoutes"
>;

/** Rules that span fields: subnet sizes, no overlap between them, a keepalive OpenVPN accepts. */
function checkShape(network: NetworkShape) {
  const data = requireSubnet("body.dataSubnet", network.dataSubnet, { min: 16, max: 29 });
  const backbone = requireSubnet("body.backboneSubnet", network.backboneSubnet, { min: 8, max: 30 });
  if (overlaps(data, backbone)) throw badRequest("body.backboneSubnet", `overlaps the data subnet ${data.cidr}`);
  if (network.keepaliveTimeout < 2 * network.keepaliveInterval) {
    throw badRequest("body.keepaliveTimeout", "must be at least twice keepaliveInterval");
  }
  requireRoutes("body.pushRoutes", network.pushRoutes, [
    { subnet: data, what: "data subnet" },
    { subnet: backbone, what: "backbone subnet" },
  ]);
  return { data, backbone };
}

/** Two networks may not share address space: a machine running switches of both could not route. */
async function checkNoOverlap(tx: Tx, network: NetworkShape, exceptId?: string) {
  const { data, backbone } = checkShape(network);
  const others = await tx.network.findMany({
    where: exceptId ? { id: { not: exceptId } } : {},
    select: { name: true, dataSubnet: true, backboneSubnet: true },
  });
  for (const other of others) {
    for (const [field, mine] of [
      ["body.dataSubnet", data],
      ["body.backboneSubnet", backbone],
    ] as const) {
      for (const theirs of [other.dataSubnet, other.backboneSubnet]) {
        const subnet = requireSubnet(field, theirs);
        if (overlaps(mine, subnet)) throw conflict(field, `overlaps ${theirs} of network ${other.name}`);
      }
    }
  }
}

export function networkService(prisma: PrismaClient, authority: CertificateAuthority) {
  async function requireUniqueName(tx: Tx, name: string, exceptId?: string) {
    const clash = await tx.network.findUnique({ where: { name }, select: { id: true } });
    if (clash && clash.id !== exceptId) throw conflict("body.name", `is already the name of network ${clash.id}`);
  }

  return {
    async list(): Promise<Network[]> {
      return (await prisma.network.findMany({ orderBy: { name: "asc" } })).map(toNetwork);
    },

    async get(id: string): Promise<Network> {
      const row = await prisma.network.findUnique({ where: { id } });
      if (!row) throw notFound("network", id);
      return toNetwork(row);
    },

    async create(input: NetworkCreate, audit: AuditContext): Promise<Network> {
      const candidate = {
        keepaliveInterval: 2,
        keepaliveTimeout: 10,
        pushRoutes: [],
        ...input,
      };
      return inTransaction(prisma, async (tx) => {
        await lockNetworkSubnets(tx);
        await requireUniqueName(tx, input.name);
        await checkNoOverlap(tx, candidate);
        const row = await tx.network.create({ data: input });
        const created = toNetwork(await authority.createForNetwork(tx, row));
        await recordAudit(tx, audit, {
          action: "network.create",
          targetType: "network",
          targetId: row.id,
          summary: { after: created },
        });
        return created;
      });
    },

    async update(id: string, patch: NetworkUpdate, audit: AuditContext): Promise<Network> {
      return inTransaction(prisma, async (tx) => {
        await lockNetworkSubnets(tx);
        const current = await lockNetwork(tx, id);
        const next = { ...current, ...patch };
        if (patch.name !== undefined) await requireUniqueName(tx, patch.name, id);
        const readdressing =
          (patch.dataSubnet !== undefined && patch.dataSubnet !== current.dataSubnet) ||
          (patch.backboneSubnet !== undefined && patch.backboneSubnet !== current.backboneSubnet);
        if (readdressing) {
          const [switches, hosts] = await Promise.all([
            tx.switch.count({ where: { networkId: id } }),
            tx.host.count({ where: { networkId: id } }),
          ]);
          if (switches + hosts > 0) {
            const field = patch.dataSubnet !== current.dataSubnet ? "body.dataSubnet" : "body.backboneSubnet";
            throw conflict(field, `cannot change while the network has ${switches} switches and ${hosts} hosts`);
          }
        }
        await checkNoOverlap(tx, next, id);
        const updated = toNetwork(
          await tx.network.update({ where: { id }, data: { ...patch, revision: { increment: 1 } } }),
        );
        await recordAudit(tx, audit, {
          action: "network.update",
          targetType: "network",
          targetId: id,
          summary: { before: pick(toNetwork(current), Object.keys(patch)), after: pick(updated, Object.keys(patch)) },
        });
        return updated;
      });
    },

    /** Deletes the network with its switches, hosts and certificates. */
    async remove(id: string, audit: AuditContext): Promise<void> {
      await inTransaction(prisma, async (tx) => {
        const network = await tx.network.findUnique({ where: { id } });
        if (!network) throw notFound("network", id);
        const [switches, hosts] = await Promise.all([
          tx.switch.count({ where: { networkId: id } }),
          tx.host.count({ where: { networkId: id } }),
        ]);
        await tx.network.delete({ where: { id } });
        await recordAudit(tx, audit, {
          action: "network.delete",
          targetType: "network",
          targetId: id,
          summary: { name: network.name, switches, hosts },
        });
      });
    },
  };
}

export type NetworkService = ReturnType<typeof networkService>;

import type { Network, NetworkCreate, NetworkUpdate } from "@switchboard/shared";
import { checkNetwork, checkSwitchSet, overlaps } from "@switchboard/shared";
import { inTransaction, lockNetwork, lockNetworkSubnets, type Tx } from "../../db/transactions.ts";
import type { Network as NetworkRow, PrismaClient } from "../../generated/prisma/client.ts";
import { conflict, notFound } from "../../http/errors.ts";
import { type ChangeSink, type NetworkChange, NO_CHANGES } from "../agents/state/network-changes.ts";
import { type AuditContext, recordAudit } from "../audit/audit-log.ts";
import { pick } from "../audit/pick.ts";
import { renderNetwork, renderSwitch } from "../configs/render-mapping.ts";
import type { CertificateAuthority } from "../pki/certificate-authority.ts";
import { changeRule, renderRule } from "../render-rules.ts";
import { requireSubnet } from "../subnet-rules.ts";

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

type NetworkShape = Pick<NetworkRow, "dataSubnet" | "backboneSubnet">;

/**
 * A network row as it would be stored, checked by the renderers' own rules (subnet sizes and
 * ranges, pushed routes, resolvers, domain, keepalive): what passes here renders. `changed`
 * lists the fields the request sets; a rule broken by another (stored) field is a 409.
 */
function checkRenders(row: NetworkRow, changed?: readonly string[]) {
  const check = () => checkNetwork(renderNetwork(row), "body");
  return changed === undefined ? renderRule(check) : changeRule(check, changed, "network");
}
/** Two networks may not share address space: a machine running switches of both could not route. */
async function checkNoOverlap(tx: Tx, network: NetworkShape, exceptId?: string) {
  const data = requireSubnet("body.dataSubnet", network.dataSubnet);
  const backbone = requireSubnet("body.backboneSubnet", network.backboneSubnet);
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

/**
 * Every switch's backbone port is the network port plus its backbone offset (naming.ts), so a
 * new port must leave each one within 65535: the renderers' own switch-set rules decide.
 */
async function checkBackbonePorts(tx: Tx, network: ReturnType<typeof checkNetwork>, row: NetworkRow) {
  const switches = await tx.switch.findMany({ where: { networkId: row.id }, orderBy: { name: "asc" } });
  renderRule(
    () => checkSwitchSet(network, switches.map(renderSwitch), "switches"),
    (field, rule) => {
      const sw = switches[Number(/^switches\.(\d+)/.exec(field)?.[1])];
      const what = sw ? `switch ${sw.name}` : field;
      return field.endsWith(".backboneAddress")
        ? conflict("body.port", `conflicts with ${what}: its backbone address ${rule}`)
        : conflict(field.replace(/^switches\.\d+/, what), rule);
    },
  );
}

export function networkService(
  prisma: PrismaClient,
  authority: CertificateAuthority,
  /** Told once a settings change committed: the dispatcher reloads the network's view. */
  changes: ChangeSink = NO_CHANGES,
) {
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
      return inTransaction(prisma, async (tx) => {
        await lockNetworkSubnets(tx);
        await requireUniqueName(tx, input.name);
        // Checked as stored, with the schema's defaults in place; a refusal rolls the row back.
        const row = await tx.network.create({ data: input });
        checkRenders(row);
        await checkNoOverlap(tx, row, row.id);
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
      let change: NetworkChange | undefined;
      const result = await inTransaction(prisma, async (tx) => {
        await lockNetworkSubnets(tx);
        const current = await lockNetwork(tx, id);
        if (patch.name !== undefined) await requireUniqueName(tx, patch.name, id);
        const readdressed = (["dataSubnet", "backboneSubnet"] as const).find(
          (key) => patch[key] !== undefined && patch[key] !== current[key],
        );
        if (readdressed) {
          const [switches, hosts] = await Promise.all([
            tx.switch.count({ where: { networkId: id } }),
            tx.host.count({ where: { networkId: id } }),
          ]);
          if (switches + hosts > 0) {
            throw conflict(
              `body.${readdressed}`,
              `cannot change while the network has ${switches} switches and ${hosts} hosts`,
            );
          }
        }
        const row = await tx.network.update({ where: { id }, data: { ...patch, revision: { increment: 1 } } });
        change = {
          kind: "reload",
          reason: "network",
          networkId: id,
          baseRevision: current.revision,
          revision: row.revision,
        };
        const checked = checkRenders(row, Object.keys(patch));
        if (patch.port !== undefined && patch.port !== current.port) await checkBackbonePorts(tx, checked, row);
        await checkNoOverlap(tx, row, id);
        const updated = toNetwork(row);
        await recordAudit(tx, audit, {
          action: "network.update",
          targetType: "network",
          targetId: id,
          summary: { before: pick(toNetwork(current), Object.keys(patch)), after: pick(updated, Object.keys(patch)) },
        });
        return updated;
      });
      if (change) changes.emit(change);
      return result;
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

import {
  type Host,
  type HostCreate,
  type HostImport,
  type HostListQuery,
  type HostPage,
  type HostUpdate,
  overlaps,
  parseIpv4,
  type Subnet4,
} from "@switchboard/shared";
import { NetworkWriteQueue } from "../../db/network-write-queue.ts";
import type { SqlReader } from "../../db/sql-reader.ts";
import { inTransaction, lockNetwork, type Tx } from "../../db/transactions.ts";
import type { Host as HostRow, Prisma, PrismaClient } from "../../generated/prisma/client.ts";
import { decodeCursor, encodeCursor } from "../../http/cursor.ts";
import { HttpError } from "../../http/error-handler.ts";
import { badRequest, conflict, notFound, refuse } from "../../http/errors.ts";
import { loadAllAddresses, networkAddresses } from "../address-plan-loader.ts";
import { type ChangeSink, type NetworkChange, NO_CHANGES } from "../agents/state/network-changes.ts";
import { type AuditContext, recordAudit } from "../audit/audit-log.ts";
import { pick } from "../audit/pick.ts";
import type { CertificateAuthority } from "../pki/certificate-authority.ts";
import { requireSubnet } from "../subnet-rules.ts";
import { type HostListRow, hostListStatement } from "./host-list-sql.ts";
import {
  checkHostPushRoutes,
  checkHostSubnets,
  DEFAULT_HOST_ROUTE_LIMITS,
  type HostCaller,
  type HostRouteLimits,
  type KeptAddress,
} from "./host-route-rules.ts";
import { importRefused, type ScreenedImport } from "./import-screen.ts";

export function toHost(row: HostRow): Host {
  return {
    id: row.id,
    networkId: row.networkId,
    commonName: row.commonName,
    address: row.address,
    description: row.description,
    tags: row.tags,
    enabled: row.enabled,
    subnets: row.subnets,
    pushRoutes: row.pushRoutes,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Everything of one network that a host must fit around, read once under the network lock. */
async function loadNetworkContext(tx: Tx, networkId: string, bulk = false) {
  const network = await lockNetwork(tx, networkId);
  const data = requireSubnet("network.dataSubnet", network.dataSubnet);
  const backbone = requireSubnet("network.backboneSubnet", network.backboneSubnet);
  // Endpoints given as addresses; a name is the agents' to check once it resolves.
  const endpoints: KeptAddress[] = (
    await tx.switch.findMany({ where: { networkId }, select: { name: true, endpointHost: true } })
  ).flatMap((sw) => {
    const address = parseIpv4(sw.endpointHost);
    return address === undefined ? [] : [{ address, what: `the endpoint of switch ${sw.name}` }];
  });
  // A bulk import checks thousands of rows against one in-memory picture; a single request asks
  // the database about just the addresses it needs.
  const plan = bulk ? await loadAllAddresses(tx, networkId, data) : await networkAddresses(tx, networkId, data);
  // Subnets routed behind hosts: read only when the request routes a subnet itself.
  let behindHosts: Promise<{ hostId: string; commonName: string; subnet: Subnet4 }[]> | undefined;
  const loadBehindHosts = () => {
    behindHosts ??= tx.host
      .findMany({
        where: { networkId, NOT: { subnets: { isEmpty: true } } },
        select: { id: true, commonName: true, subnets: true },
      })
      .then((rows) =>
        rows.flatMap((h) =>
          h.subnets.map((cidr) => ({
            hostId: h.id,
            commonName: h.commonName,
            subnet: requireSubnet("host.subnets", cidr),
          })),
        ),
      );
    return behindHosts;
  };
  return { network, data, backbone, endpoints, plan, loadBehindHosts };
}
type NetworkContext = Awaited<ReturnType<typeof loadNetworkContext>>;

/** Who places the host, and what the host has now (an update). */
interface Placement {
  readonly caller: HostCaller;
  readonly limits: HostRouteLimits;
  readonly selfId?: string;
  readonly currentSubnets?: readonly string[];
}

/** Checks a host's address and routes in its network; returns the address to store. */
async function placeHost(
  context: NetworkContext,
  host: { address?: string; subnets?: string[]; pushRoutes?: string[] },
  field: (name: string) => string,
  placement: Placement,
): Promise<string> {
  const { selfId } = placement;
  let address = host.address;
  if (address === undefined) {
    address = (await context.plan.firstFree()) ?? undefined;
    if (!address)
      throw conflict(field("address"), `cannot be chosen: no free static address left in ${context.data.cidr}`);
  } else {
    const why = await context.plan.whyUnavailable(address, selfId ? { ignoreHostId: selfId } : {});
    if (why) throw refuse(field("address"), why);
  }
  const rules = { ...context, limits: placement.limits, caller: placement.caller };
  const subnets = checkHostSubnets(field("subnets"), host.subnets ?? [], rules, placement.currentSubnets);
  if (subnets.length > 0) {
    const behindHosts = await context.loadBehindHosts();
    subnets.forEach((subnet, index) => {
      const clash = behindHosts.find((b) => b.hostId !== selfId && overlaps(b.subnet, subnet));
      if (clash)
        throw conflict(`${field("subnets")}.${index}`, `overlaps ${clash.subnet.cidr} behind host ${clash.commonName}`);
    });
  }
  checkHostPushRoutes(field("pushRoutes"), host.pushRoutes ?? [], subnets, field("subnets"), rules);
  return address;
}

/** Records what a newly placed host takes, so the next row of an import sees it. */
async function reserve(context: NetworkContext, id: string, commonName: string, address: string, subnets: string[]) {
  context.plan.addHost(id, address);
  if (subnets.length === 0) return;
  const behindHosts = await context.loadBehindHosts();
  for (const cidr of subnets) behindHosts.push({ hostId: id, commonName, subnet: requireSubnet("subnets", cidr) });
}

export function hostService(
  prisma: PrismaClient,
  /** The list reads through plain SQL on the same connections (host-list-sql.ts says why). */
  sql: SqlReader,
  authority: CertificateAuthority,
  /** Writes the session reports still batched in memory, so the online filters read what agents said. */
  flushSessions: () => Promise<void> = async () => undefined,
  limits: HostRouteLimits = DEFAULT_HOST_ROUTE_LIMITS,
  /** Told what each write changed once it committed, so connected switches get just that (agents/state). */
  changes: ChangeSink = NO_CHANGES,
) {
  async function requireUniqueName(tx: Tx, networkId: string, commonName: string) {
    const clash = await tx.host.findUnique({
      where: { networkId_commonName: { networkId, commonName } },
      select: { id: true },
    });
    if (clash) throw conflict("body.commonName", "is already used by another host in this network");
  }
  /** The network's new revision, read in the same statement, for the change the write emits. */
  const bumpRevision = async (tx: Tx, networkId: string) =>
    (
      await tx.network.update({
        where: { id: networkId },
        data: { revision: { increment: 1 } },
        select: { revision: true },
      })
    ).revision;
  const writes = new NetworkWriteQueue();
  /** Runs a write of the network when its turn comes and, only once it committed, tells the change it made. */
  async function committing<T>(
    networkId: string,
    work: (tx: Tx) => Promise<{ result: T; change: NetworkChange }>,
  ): Promise<T> {
    const { result, change } = await writes.run(networkId, () => inTransaction(prisma, work));
    changes.emit(change);
    return result;
  }
  const networkOrBadRequest = (field: string) => (error: unknown) => {
    throw error instanceof HttpError && error.statusCode === 404
      ? badRequest(field, "is not an existing network")
      : error;
  };

  return {
    async list(query: HostListQuery): Promise<HostPage> {
      if (query.switchId !== undefined || query.online !== undefined) await flushSessions();
      const statement = hostListStatement(query, query.cursor ? decodeCursor(query.cursor) : undefined);
      const rows = await sql.query<HostListRow>(statement);
      const page = rows.length < statement.take ? rows : rows.slice(0, statement.take - 1);
      const last = page.at(-1);
      const nextCursor =
        rows.length === statement.take && last
          ? encodeCursor({ value: last[query.sort ?? "commonName"], id: last.id })
          : null;
      return { items: page, nextCursor };
    },

    async get(id: string): Promise<Host> {
      const row = await prisma.host.findUnique({ where: { id } });
      if (!row) throw notFound("host", id);
      return toHost(row);
    },

    async create(input: HostCreate, audit: AuditContext, caller: HostCaller): Promise<Host> {
      return committing(input.networkId, async (tx) => {
        const context = await loadNetworkContext(tx, input.networkId).catch(networkOrBadRequest("body.networkId"));
        await requireUniqueName(tx, input.networkId, input.commonName);
        const address = await placeHost(context, input, (name) => `body.${name}`, { caller, limits });
        const row = await tx.host.create({ data: { ...input, address } });
        const revision = await bumpRevision(tx, input.networkId);
        await recordAudit(tx, audit, {
          action: "host.create",
          targetType: "host",
          targetId: row.id,
          summary: { after: toHost(row) },
        });
        const change: NetworkChange = {
          kind: "host-upserted",
          networkId: input.networkId,
          baseRevision: context.network.revision,
          revision,
          host: row,
        };
        return { result: toHost(row), change };
      });
    },

    async update(id: string, patch: HostUpdate, audit: AuditContext, caller: HostCaller): Promise<Host> {
      const existing = await prisma.host.findUnique({ where: { id }, select: { networkId: true } });
      if (!existing) throw notFound("host", id);
      return committing(existing.networkId, async (tx) => {
        const context = await loadNetworkContext(tx, existing.networkId);
        const current = await tx.host.findUnique({ where: { id } });
        if (!current) throw notFound("host", id);
        const address = await placeHost(
          context,
          {
            address: patch.address ?? current.address,
            subnets: patch.subnets ?? current.subnets,
            pushRoutes: patch.pushRoutes ?? current.pushRoutes,
          },
          (name) => `body.${name}`,
          { caller, limits, selfId: id, currentSubnets: current.subnets },
        );
        const row = await tx.host.update({ where: { id }, data: { ...patch, address } });
        const revision = await bumpRevision(tx, existing.networkId);
        await recordAudit(tx, audit, {
          action: "host.update",
          targetType: "host",
          targetId: id,
          summary: { before: pick(toHost(current), Object.keys(patch)), after: pick(toHost(row), Object.keys(patch)) },
        });
        const change: NetworkChange = {
          kind: "host-upserted",
          networkId: existing.networkId,
          baseRevision: context.network.revision,
          revision,
          host: row,
          ...(current.commonName === row.commonName ? {} : { previousCommonName: current.commonName }),
        };
        return { result: toHost(row), change };
      });
    },

    /** Deleting a host frees its address and common name at once. */
    async remove(id: string, audit: AuditContext): Promise<void> {
      const existing = await prisma.host.findUnique({ where: { id }, select: { networkId: true } });
      if (!existing) throw notFound("host", id);
      await committing(existing.networkId, async (tx) => {
        const row = await tx.host.findUnique({
          where: { id },
          select: { networkId: true, commonName: true, address: true },
        });
        if (!row) throw notFound("host", id);
        const network = await lockNetwork(tx, row.networkId);
        // Its certificates revoked: the CRL the switches hold changed too, which a reload sends.
        const revoked = await authority.revokeAllOf(tx, { networkId: row.networkId, hostId: id });
        await tx.host.delete({ where: { id } });
        const revision = await bumpRevision(tx, row.networkId);
        await recordAudit(tx, audit, {
          action: "host.delete",
          targetType: "host",
          targetId: id,
          summary: { commonName: row.commonName, address: row.address, networkId: row.networkId },
        });
        const revisions = { networkId: row.networkId, baseRevision: network.revision, revision };
        const change: NetworkChange =
          revoked > 0
            ? { kind: "reload", reason: "pki", ...revisions }
            : { kind: "host-removed", commonName: row.commonName, ...revisions };
        return { result: undefined, change };
      });
    },

    /**
     * All rows or none: every row is checked against the network and the rows before it. `screened`
     * names the file's rows that `input.hosts` holds and the problems of those the schema refused
     * (import-screen.ts), so the refusal lists every bad row of the file at once.
     */
    async import(
      input: HostImport,
      audit: AuditContext,
      caller: HostCaller,
      screened?: ScreenedImport,
    ): Promise<Host[]> {
      const hosts = await committing(input.networkId, async (tx) => {
        const context = await loadNetworkContext(tx, input.networkId, true).catch(
          networkOrBadRequest("body.networkId"),
        );
        const existingNames = new Set(
          (await tx.host.findMany({ where: { networkId: input.networkId }, select: { commonName: true } })).map(
            (h) => h.commonName,
          ),
        );
        const errors: { row: number; field: string; message: string }[] = [];
        const data: Prisma.HostCreateManyInput[] = [];
        for (const [index, host] of input.hosts.entries()) {
          const row = screened?.rows[index] ?? index;
          const field = (name: string) => `hosts.${row}.${name}`;
          try {
            if (existingNames.has(host.commonName))
              throw conflict(field("commonName"), "is already used by another host in this network");
            const address = await placeHost(context, host, field, { caller, limits });
            existingNames.add(host.commonName);
            await reserve(context, `import-${row}`, host.commonName, address, host.subnets ?? []);
            data.push({ ...host, networkId: input.networkId, address });
          } catch (error) {
            if (!(error instanceof HttpError)) throw error;
            errors.push({ row, field: error.field ?? field(""), message: error.rule ?? error.message });
          }
        }
        if (errors.length > 0 || screened) throw importRefused([...(screened?.problems ?? []), ...errors]);
        const created: HostRow[] = [];
        // Postgres takes at most 65535 bind parameters per statement: insert in chunks.
        for (let start = 0; start < data.length; start += 1000) {
          created.push(...(await tx.host.createManyAndReturn({ data: data.slice(start, start + 1000) })));
        }
        const revision = await bumpRevision(tx, input.networkId);
        await recordAudit(tx, audit, {
          action: "host.import",
          targetType: "network",
          targetId: input.networkId,
          summary: { created: created.length, commonNames: created.slice(0, 20).map((h) => h.commonName) },
        });
        // Thousands of hosts: one reload costs what patching each would.
        const change: NetworkChange = {
          kind: "reload",
          reason: "hosts-imported",
          networkId: input.networkId,
          baseRevision: context.network.revision,
          revision,
        };
        return { result: created.map(toHost), change };
      });
      // Thousands of new rows leave the planner's statistics and the search indexes' pending lists
      // behind until autovacuum comes by (PGlite has none): meanwhile the list would sort the whole
      // network for every page, and the search would read every host.
      await prisma.$executeRawUnsafe('VACUUM (ANALYZE) "Host"').catch(() => undefined);
      return hosts;
    },
  };
}

export type HostService = ReturnType<typeof hostService>;

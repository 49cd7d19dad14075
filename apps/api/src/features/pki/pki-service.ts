import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Certificate,
  type CertificateListQuery,
  type CertificatePage,
  type CertificateTotals,
  type CertificateTotalsQuery,
  type EasyRsaImport,
  type IssueBody,
  type NetworkPki,
  type RevocationReason,
  renderClientProfile,
  type SwitchCertificates,
} from "@switchboard/shared";
import { ROLE_GRANTS } from "../../auth/access.ts";
import { inTransaction, lockNetwork } from "../../db/transactions.ts";
import type { Certificate as CertificateRow, Prisma, PrismaClient, Role } from "../../generated/prisma/client.ts";
import { decodeCursor, encodeCursor } from "../../http/cursor.ts";
import { HttpError } from "../../http/error-handler.ts";
import { badRequest, conflict, notFound } from "../../http/errors.ts";
import { importEasyRsaPki, PkiError } from "../../pki/index.ts";
import { type AuditContext, recordAudit } from "../audit/audit-log.ts";
import { renderHost, renderNetwork, renderSwitch } from "../configs/render-mapping.ts";
import type { CertificateAuthority } from "./certificate-authority.ts";
import { requireUsableCa, weakKeyWarnings } from "./import-rules.ts";

const DAY_MS = 86_400_000;

export function toCertificate(row: CertificateRow): Certificate {
  return {
    id: row.id,
    networkId: row.networkId,
    kind: row.kind,
    serial: row.serial,
    commonName: row.commonName,
    notBefore: row.notBefore.toISOString(),
    notAfter: row.notAfter.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
    revocationReason: row.revocationReason,
    hostId: row.hostId,
    switchId: row.switchId,
    keyHeld: row.keySealed !== null,
    pem: row.pem,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Who asks, as far as a rule finer than the route's access needs to know. */
export interface Caller {
  role: Role;
}

/**
 * A switch's certificates (server, backbone) are an admin's business even on routes an operator
 * may use for host certificates: replacing or revoking one changes what the switch itself runs.
 */
function requireSwitchCertificateRights(row: CertificateRow, caller: Caller, verb: "revoke" | "renew") {
  if (row.kind !== "server" && row.kind !== "backbone") return;
  if (ROLE_GRANTS[caller.role].has("admin")) return;
  throw new HttpError(
    403,
    `role ${caller.role} may not ${verb} a ${row.kind} certificate: a switch's certificates need admin`,
  );
}

export function pkiService(prisma: PrismaClient, authority: CertificateAuthority) {
  async function hostOrThrow(id: string) {
    const host = await prisma.host.findUnique({ where: { id } });
    if (!host) throw notFound("host", id);
    return host;
  }

  async function certificateOrThrow(id: string) {
    const row = await prisma.certificate.findUnique({ where: { id } });
    if (!row) throw notFound("certificate", id);
    return row;
  }

  return {
    async networkPki(networkId: string): Promise<NetworkPki> {
      const network = await prisma.network.findUnique({ where: { id: networkId } });
      if (!network) throw notFound("network", networkId);
      const ca = await prisma.certificate.findFirst({ where: { networkId, kind: "ca", revokedAt: null } });
      if (!ca) throw new HttpError(409, `network ${networkId} has no certificate authority`);
      return {
        ca: toCertificate(ca),
        crl: { number: network.crlNumber, nextUpdate: network.crlNextUpdate?.toISOString() ?? null },
        tlsCryptKey: { present: network.tlsCryptKeySealed !== null },
      };
    },

    async crl(networkId: string): Promise<string> {
      const network = await prisma.network.findUnique({ where: { id: networkId }, select: { crlPem: true } });
      if (!network) throw notFound("network", networkId);
      if (!network.crlPem) throw new HttpError(409, `network ${networkId} has no CRL yet`);
      return network.crlPem;
    },

    async totals(query: CertificateTotalsQuery): Promise<CertificateTotals> {
      const where: Prisma.CertificateWhereInput = {
        ...(query.networkId ? { networkId: query.networkId } : {}),
        ...(query.kind ? { kind: query.kind } : {}),
      };
      const soon = new Date(Date.now() + 30 * DAY_MS);
      const [active, revoked, expiringWithin30Days] = await Promise.all([
        prisma.certificate.count({ where: { ...where, revokedAt: null } }),
        prisma.certificate.count({ where: { ...where, revokedAt: { not: null } } }),
        prisma.certificate.count({ where: { ...where, revokedAt: null, notAfter: { lte: soon } } }),
      ]);
      return { active, revoked, expiringWithin30Days };
    },

    async list(query: CertificateListQuery): Promise<CertificatePage> {
      const limit = query.limit ?? 50;
      const state = query.state ?? "all";
      const where: Prisma.CertificateWhereInput = {
        ...(query.networkId ? { networkId: query.networkId } : {}),
        ...(query.hostId ? { hostId: query.hostId } : {}),
        ...(query.switchId ? { switchId: query.switchId } : {}),
        ...(query.kind ? { kind: query.kind } : {}),
        ...(state === "active" || query.expiringWithinDays !== undefined ? { revokedAt: null } : {}),
        ...(state === "revoked" ? { revokedAt: { not: null } } : {}),
        ...(query.expiringWithinDays !== undefined
          ? { notAfter: { lte: new Date(Date.now() + query.expiringWithinDays * DAY_MS) } }
          : {}),
      };
      const and: Prisma.CertificateWhereInput[] = [];
      if (query.cursor) {
        const cursor = decodeCursor(query.cursor, { id: "uuid", value: "date" });
        const at = new Date(cursor.value);
        and.push({ OR: [{ notAfter: { gt: at } }, { notAfter: at, id: { gt: cursor.id } }] });
      }
      const rows = await prisma.certificate.findMany({
        where: { ...where, AND: and },
        orderBy: [{ notAfter: "asc" }, { id: "asc" }],
        take: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toCertificate),
        nextCursor:
          rows.length > limit && last ? encodeCursor({ value: last.notAfter.toISOString(), id: last.id }) : null,
      };
    },

    async get(id: string): Promise<Certificate> {
      const row = await prisma.certificate.findUnique({ where: { id } });
      if (!row) throw notFound("certificate", id);
      return toCertificate(row);
    },

    /** Issues or rotates a host's certificate; the old one is revoked as superseded. */
    async issueForHost(hostId: string, body: IssueBody, audit: AuditContext): Promise<Certificate> {
      const host = await hostOrThrow(hostId);
      return inTransaction(prisma, async (tx) => {
        const row = await authority.issue(tx, {
          networkId: host.networkId,
          kind: "client",
          commonName: host.commonName,
          hostId: host.id,
          ...(body.csr ? { csrPem: body.csr } : {}),
          ...(body.validityDays ? { validityDays: body.validityDays } : {}),
        });
        await recordAudit(tx, audit, {
          action: "certificate.issue",
          targetType: "host",
          targetId: host.id,
          summary: { serial: row.serial, csr: Boolean(body.csr), notAfter: row.notAfter.toISOString() },
        });
        return toCertificate(row);
      });
    },

    async revoke(id: string, reason: RevocationReason, audit: AuditContext, caller: Caller): Promise<Certificate> {
      requireSwitchCertificateRights(await certificateOrThrow(id), caller, "revoke");
      return inTransaction(prisma, async (tx) => {
        const row = await authority.revoke(tx, id, reason);
        await recordAudit(tx, audit, {
          action: "certificate.revoke",
          targetType: "certificate",
          targetId: id,
          summary: { serial: row.serial, commonName: row.commonName, reason },
        });
        return toCertificate(row);
      });
    },

    /** A fresh certificate for the same holder: hosts keep their address, switches their role. */
    async renew(id: string, body: IssueBody, audit: AuditContext, caller: Caller): Promise<Certificate> {
      const current = await certificateOrThrow(id);
      requireSwitchCertificateRights(current, caller, "renew");
      if (current.kind === "ca") throw conflict("certificate", "is the network's CA and cannot be renewed here");
      if (current.revokedAt) throw conflict("certificate", "is revoked; issue a new one for its holder instead");
      // A switch's renewal always gets a new key from here (a CSR is refused), whatever it had.
      if (current.kind === "client" && !current.keySealed && !body.csr) {
        throw new HttpError(400, "body.csr is required: the holder keeps its own key, so it must send a new CSR");
      }
      return inTransaction(prisma, async (tx) => {
        const row = await authority.issue(tx, {
          networkId: current.networkId,
          kind: current.kind as "server" | "client" | "backbone",
          commonName: current.commonName,
          ...(current.hostId ? { hostId: current.hostId } : {}),
          ...(current.switchId ? { switchId: current.switchId } : {}),
          ...(body.csr ? { csrPem: body.csr } : {}),
          ...(body.validityDays ? { validityDays: body.validityDays } : {}),
        });
        await recordAudit(tx, audit, {
          action: "certificate.renew",
          targetType: "certificate",
          targetId: id,
          summary: { previousSerial: current.serial, serial: row.serial },
        });
        return toCertificate(row);
      });
    },

    /**
     * A switch's new keys and certificates, for one whose key was lost or compromised (or whose
     * certificates were revoked, which leaves it without a desired state): the old ones go into
     * the CRL, and the switch's agent receives the new files with the next revision.
     */
    async reissueSwitch(switchId: string, reason: RevocationReason, audit: AuditContext): Promise<SwitchCertificates> {
      const sw = await prisma.switch.findUnique({ where: { id: switchId }, select: { id: true, networkId: true } });
      if (!sw) throw notFound("switch", switchId);
      return inTransaction(prisma, async (tx) => {
        await lockNetwork(tx, sw.networkId);
        const { server, backbone, revoked } = await authority.reissueSwitch(tx, sw, reason);
        const revokedSerials = revoked.map((c) => c.serial);
        await recordAudit(tx, audit, {
          action: "switch.certificates.reissue",
          targetType: "switch",
          targetId: sw.id,
          summary: {
            networkId: sw.networkId,
            reason,
            revokedSerials,
            serials: { server: server.serial, backbone: backbone.serial },
          },
        });
        return { issued: [toCertificate(server), toCertificate(backbone)], revokedSerials };
      });
    },

    /**
     * The host's .ovpn profile with inline CA, certificate, key and tls-crypt key. The first
     * download issues the certificate; after a revocation it does not (a revoked host stays out
     * until someone issues it a new certificate on purpose), and a disabled host gets none.
     * Every download is audited: it hands out a private key.
     */
    async profile(
      hostId: string,
      audit: AuditContext,
      options: { firstSwitchId?: string } = {},
    ): Promise<{ fileName: string; text: string }> {
      return inTransaction(prisma, async (tx) => {
        const host = await tx.host.findUnique({ where: { id: hostId } });
        if (!host) throw notFound("host", hostId);
        if (!host.enabled) {
          throw conflict("host", `${host.commonName} is disabled: it gets no profile until it is enabled again`);
        }
        let cert = await tx.certificate.findFirst({ where: { hostId, revokedAt: null } });
        if (!cert) {
          const revoked = await tx.certificate.findFirst({ where: { hostId }, orderBy: { revokedAt: "desc" } });
          if (revoked?.revokedAt) {
            throw conflict(
              "host",
              `${host.commonName}'s certificate ${revoked.serial} was revoked (${revoked.revocationReason ?? "unspecified"}) on ${revoked.revokedAt.toISOString()}; issue it a new certificate (POST /api/hosts/${host.id}/certificate) before downloading its profile`,
            );
          }
          cert = await authority.issue(tx, {
            networkId: host.networkId,
            kind: "client",
            commonName: host.commonName,
            hostId,
          });
        }
        const network = await tx.network.findUniqueOrThrow({
          where: { id: host.networkId },
          include: { switches: true },
        });
        const { firstSwitchId } = options;
        if (firstSwitchId !== undefined && !network.switches.some((sw) => sw.id === firstSwitchId && sw.enabled)) {
          throw badRequest("querystring.firstSwitchId", "must be an enabled switch of the host's network");
        }
        const ca = await authority.currentCa(tx, host.networkId);
        const text = renderClientProfile(
          renderNetwork(network),
          renderHost(host),
          network.switches.map(renderSwitch),
          {
            caPem: ca.certPem,
            certPem: cert.pem,
            keyPem: authority.privateKeyOf(cert),
            tlsCryptKey: authority.tlsCryptKeyOf(network),
          },
          { firstSwitchId },
        );
        await recordAudit(tx, audit, {
          action: "host.profile.download",
          targetType: "host",
          targetId: host.id,
          summary: { commonName: host.commonName, serial: cert.serial, includesKey: cert.keySealed !== null },
        });
        return { fileName: `${host.commonName}.ovpn`, text };
      });
    },

    async rotateTlsCrypt(networkId: string, audit: AuditContext) {
      return inTransaction(prisma, async (tx) => {
        await lockNetwork(tx, networkId);
        await authority.rotateTlsCrypt(tx, networkId);
        await recordAudit(tx, audit, {
          action: "network.tls-crypt.rotate",
          targetType: "network",
          targetId: networkId,
        });
      });
    },

    /** Republishes every CRL with less than a third of its validity left. Run on a timer. */
    async refreshDueCrls(now = new Date()): Promise<number> {
      const networks = await prisma.network.findMany({ select: { id: true, crlNextUpdate: true } });
      let refreshed = 0;
      for (const network of networks.filter((n) => authority.crlIsDue(n, now))) {
        await inTransaction(prisma, (tx) => authority.regenerateCrl(tx, network.id, now));
        refreshed++;
      }
      return refreshed;
    },

    /**
     * Replaces a network's generated CA with an easy-rsa one, keeping serials and revocations, so
     * hosts migrate without re-keying. Only before the network has issued anything of its own.
     */
    async importEasyRsa(networkId: string, files: EasyRsaImport, audit: AuditContext) {
      const dir = await mkdtemp(join(tmpdir(), "sb-easyrsa-"));
      try {
        await mkdir(join(dir, "private"));
        await mkdir(join(dir, "issued"));
        await writeFile(join(dir, "ca.crt"), files.caCert);
        await writeFile(join(dir, "private", "ca.key"), files.caKey, { mode: 0o600 });
        await writeFile(join(dir, "index.txt"), files.index);
        // Names are checked by the schema (no separators), so each file stays inside issued/.
        for (const cert of files.issued) await writeFile(join(dir, "issued", `${cert.name}.crt`), cert.pem);
        const pki = await importEasyRsaPki(dir).catch((error) => {
          throw error instanceof PkiError ? new HttpError(400, `body: ${error.message}`) : error;
        });
        requireUsableCa(pki.ca);
        pki.warnings.push(...weakKeyWarnings(pki.certificates));
        return await inTransaction(prisma, async (tx) => {
          await lockNetwork(tx, networkId);
          const issuedHere = await tx.certificate.count({ where: { networkId, kind: { not: "ca" } } });
          if (issuedHere > 0) {
            throw conflict("network", `has already issued ${issuedHere} certificates; import into a new network`);
          }
          const imported = await authority.importCa(tx, networkId, pki);
          await recordAudit(tx, audit, {
            action: "network.pki.import",
            targetType: "network",
            targetId: networkId,
            summary: { certificates: imported, warnings: pki.warnings.length },
          });
          return { imported, warnings: pki.warnings };
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export type PkiService = ReturnType<typeof pkiService>;

import type { Tx } from "../../db/transactions.ts";
import type { Certificate, CertificateKind, Network } from "../../generated/prisma/client.ts";
import { HttpError } from "../../http/error-handler.ts";
import { badRequest, conflict, notFound } from "../../http/errors.ts";
import {
  buildCrl,
  createCa,
  generateTlsCryptKey,
  type ImportedPki,
  issueCertificate,
  PkiError,
  type RevocationReason,
  seal,
  signCsr,
  unseal,
} from "../../pki/index.ts";
import { CRL_REFRESH_SHARE, type PkiSettings } from "./pki-settings.ts";

const DAY_MS = 86_400_000;

/** Sealed blobs are bound to what they are, so one cannot be swapped into another row. */
export const sealContext = {
  certificateKey: (networkId: string, serial: string) => `certificate-key:${networkId}:${serial}`,
  tlsCrypt: (networkId: string) => `tls-crypt:${networkId}`,
  backboneTlsCrypt: (networkId: string) => `backbone-tls-crypt:${networkId}`,
};

/** Prisma's Bytes columns take a plain Uint8Array over its own ArrayBuffer. */
const bytes = (buffer: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(buffer);

/** A PKI rule broken by the request (a bad CSR...): 400 naming the field. */
function asHttpError(error: unknown): never {
  if (error instanceof PkiError) throw new HttpError(400, error.message);
  throw error;
}

export interface IssueRequest {
  networkId: string;
  kind: Exclude<CertificateKind, "ca">;
  commonName: string;
  hostId?: string;
  switchId?: string;
  /**
   * The holder's own CSR; without it a key pair is generated here and sealed. Clients only: the
   * API must hold a switch's keys to deliver them to its agent.
   */
  csrPem?: string;
  /** What the caller asked for (body.validityDays), at most the settings' cap; absent: the default. */
  validityDays?: number;
}

/**
 * The network's certificate authority over the database: every private key sealed under the
 * master key, every issued certificate recorded, the CRL republished whenever one is revoked.
 * All methods run inside the caller's transaction.
 */
export function certificateAuthority(settings: PkiSettings) {
  const { masterKey } = settings;

  async function currentCa(tx: Tx, networkId: string) {
    const ca = await tx.certificate.findFirst({ where: { networkId, kind: "ca", revokedAt: null } });
    if (!ca?.keySealed) throw new HttpError(409, `network ${networkId} has no certificate authority`);
    const keyPem = unseal(
      Buffer.from(ca.keySealed),
      masterKey,
      sealContext.certificateKey(networkId, ca.serial),
    ).toString("utf8");
    return { row: ca, certPem: ca.pem, keyPem };
  }

  async function regenerateCrl(tx: Tx, networkId: string, now = new Date()): Promise<Network> {
    // The network row lock orders CRL numbers and makes each CRL include every revocation before it.
    await tx.$queryRaw`SELECT id::text FROM "Network" WHERE id = ${networkId}::uuid FOR UPDATE`;
    const network = await tx.network.findUniqueOrThrow({ where: { id: networkId } });
    const ca = await currentCa(tx, networkId);
    const revoked = await tx.certificate.findMany({
      where: { networkId, revokedAt: { not: null }, kind: { not: "ca" } },
      select: { serial: true, revokedAt: true, revocationReason: true },
    });
    const crlNumber = network.crlNumber + 1;
    const nextUpdate = new Date(now.getTime() + settings.crlValidityDays * DAY_MS);
    const crlPem = await buildCrl({
      caCertPem: ca.certPem,
      caKeyPem: ca.keyPem,
      revoked: revoked.map((r) => ({
        serialHex: r.serial,
        revokedAt: r.revokedAt as Date,
        reason: (r.revocationReason ?? "unspecified") as RevocationReason,
      })),
      crlNumber,
      thisUpdate: now,
      nextUpdate,
    });
    return tx.network.update({
      where: { id: networkId },
      data: { crlPem, crlNumber, crlNextUpdate: nextUpdate, revision: { increment: 1 } },
    });
  }

  async function storeIssued(
    tx: Tx,
    request: IssueRequest,
    issued: { certPem: string; serialHex: string; notBefore: Date; notAfter: Date; keyPem?: string },
  ) {
    return tx.certificate.create({
      data: {
        networkId: request.networkId,
        kind: request.kind,
        serial: issued.serialHex,
        commonName: request.commonName,
        pem: issued.certPem,
        keySealed: issued.keyPem
          ? bytes(seal(issued.keyPem, masterKey, sealContext.certificateKey(request.networkId, issued.serialHex)))
          : null,
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
        hostId: request.hostId ?? null,
        switchId: request.switchId ?? null,
      },
    });
  }

  function sealedBackboneKey(networkId: string) {
    return bytes(seal(generateTlsCryptKey(), masterKey, sealContext.backboneTlsCrypt(networkId)));
  }

  const authority = {
    currentCa,
    regenerateCrl,

    /** A new network's CA, tls-crypt keys (data servers, backbone links) and first (empty) CRL. */
    async createForNetwork(tx: Tx, network: { id: string; name: string }) {
      const commonName = caCommonName(network.name);
      const ca = await createCa({
        commonName,
        validityDays: settings.caValidityDays,
        keyType: settings.caKeyType,
      });
      await storeIssued(tx, { networkId: network.id, kind: "ca" as never, commonName }, ca);
      await tx.network.update({
        where: { id: network.id },
        data: {
          tlsCryptKeySealed: bytes(seal(generateTlsCryptKey(), masterKey, sealContext.tlsCrypt(network.id))),
          backboneTlsCryptKeySealed: sealedBackboneKey(network.id),
        },
      });
      return regenerateCrl(tx, network.id);
    },

    /**
     * Issues a certificate; the holder's previous one in force (same host, or same switch and
     * kind) is revoked as superseded in the same transaction.
     */
    async issue(tx: Tx, request: IssueRequest): Promise<Certificate> {
      if (request.csrPem !== undefined && request.kind !== "client") {
        throw badRequest(
          "body.csr",
          `is not accepted for a ${request.kind} certificate: the API generates and keeps switch keys, which it delivers to the switch's agent`,
        );
      }
      if (request.validityDays !== undefined && request.validityDays > settings.maxValidityDays) {
        throw badRequest(
          "body.validityDays",
          `must be at most ${settings.maxValidityDays} days (the server's cap, CERT_MAX_VALIDITY_DAYS)`,
        );
      }
      const ca = await currentCa(tx, request.networkId);
      const options = {
        caCertPem: ca.certPem,
        caKeyPem: ca.keyPem,
        commonName: request.commonName,
        kind: request.kind,
        validityDays: request.validityDays ?? settings.leafValidityDays,
      };
      const issued = await (request.csrPem
        ? signCsr({ ...options, csrPem: request.csrPem })
        : issueCertificate({ ...options, keyType: settings.leafKeyType })
      ).catch(asHttpError);
      const previous = await tx.certificate.findMany({
        where: {
          networkId: request.networkId,
          revokedAt: null,
          ...(request.hostId ? { hostId: request.hostId } : { switchId: request.switchId ?? "", kind: request.kind }),
        },
        select: { id: true },
      });
      if (previous.length > 0) {
        await tx.certificate.updateMany({
          where: { id: { in: previous.map((p) => p.id) } },
          data: { revokedAt: new Date(), revocationReason: "superseded" },
        });
      }
      const row = await storeIssued(tx, request, issued);
      if (previous.length > 0) await regenerateCrl(tx, request.networkId);
      return row;
    },

    /**
     * New keys and certificates for a switch (server and backbone, same names): the ones in
     * force are revoked for `reason`. Also the way back for a switch left with none in force
     * (revoked), which gets no desired state until then.
     */
    async reissueSwitch(tx: Tx, sw: { id: string; networkId: string }, reason: RevocationReason) {
      const history = await tx.certificate.findMany({
        where: { switchId: sw.id, kind: { in: ["server", "backbone"] } },
        orderBy: { createdAt: "desc" },
      });
      const nameOf = (kind: "server" | "backbone") => {
        const commonName = history.find((c) => c.kind === kind)?.commonName;
        if (!commonName) throw conflict("switch", `${sw.id} has never had a ${kind} certificate to re-issue`);
        return commonName;
      };
      const names = { server: nameOf("server"), backbone: nameOf("backbone") };
      // Revoked first, with the admin's reason: issue() would otherwise record them as superseded.
      const revoked = history.filter((c) => c.revokedAt === null);
      await tx.certificate.updateMany({
        where: { id: { in: revoked.map((c) => c.id) } },
        data: { revokedAt: new Date(), revocationReason: reason },
      });
      const issue = (kind: "server" | "backbone") =>
        authority.issue(tx, { networkId: sw.networkId, kind, commonName: names[kind], switchId: sw.id });
      const server = await issue("server");
      const backbone = await issue("backbone");
      // Also when nothing was in force: the new revision is what sends the switch its new files.
      await regenerateCrl(tx, sw.networkId);
      return { server, backbone, revoked };
    },

    async revoke(tx: Tx, certificateId: string, reason: RevocationReason): Promise<Certificate> {
      const row = await tx.certificate.findUnique({ where: { id: certificateId } });
      if (!row) throw notFound("certificate", certificateId);
      if (row.kind === "ca")
        throw conflict("certificate", "is the network's CA: replace the CA by importing one instead");
      if (row.revokedAt) throw conflict("certificate", `was already revoked on ${row.revokedAt.toISOString()}`);
      const revoked = await tx.certificate.update({
        where: { id: certificateId },
        data: { revokedAt: new Date(), revocationReason: reason },
      });
      await regenerateCrl(tx, row.networkId);
      return revoked;
    },

    /** Revokes whatever is in force for a host or switch that is going away; returns how many were. */
    async revokeAllOf(tx: Tx, owner: { networkId: string; hostId?: string; switchId?: string }): Promise<number> {
      const where = {
        networkId: owner.networkId,
        revokedAt: null,
        ...(owner.hostId ? { hostId: owner.hostId } : { switchId: owner.switchId }),
      };
      const { count } = await tx.certificate.updateMany({
        where,
        data: { revokedAt: new Date(), revocationReason: "cessationOfOperation" },
      });
      if (count > 0) await regenerateCrl(tx, owner.networkId);
      return count;
    },

    /**
     * Puts an imported CA in place of the generated one (which has signed nothing yet) and records
     * every certificate it issued with its serial and revocation, so the CRL carries them on.
     * The newest valid certificate of a common name is tied to the host of that name, if any.
     */
    async importCa(tx: Tx, networkId: string, pki: ImportedPki): Promise<number> {
      await tx.certificate.deleteMany({ where: { networkId, kind: "ca" } });
      await storeIssued(tx, { networkId, kind: "ca" as never, commonName: pki.ca.commonName ?? "imported CA" }, pki.ca);
      const hosts = new Map(
        (await tx.host.findMany({ where: { networkId }, select: { id: true, commonName: true } })).map((h) => [
          h.commonName,
          h.id,
        ]),
      );
      const newestValid = new Map<string, ImportedPki["certificates"][number]>();
      for (const cert of pki.certificates) {
        const known = newestValid.get(cert.commonName);
        if (cert.status === "valid" && cert.certPem && (!known || known.notAfter < cert.notAfter))
          newestValid.set(cert.commonName, cert);
      }
      for (const cert of pki.certificates) {
        const hostId = newestValid.get(cert.commonName) === cert ? hosts.get(cert.commonName) : undefined;
        const row = await storeIssued(
          tx,
          {
            networkId,
            kind: cert.kind === "unknown" ? "client" : cert.kind,
            commonName: cert.commonName,
            ...(hostId ? { hostId } : {}),
          },
          {
            // easy-rsa keeps no copy of some revoked certificates: the CRL needs only the serial.
            certPem: cert.certPem ?? "",
            serialHex: cert.serialHex,
            notBefore: cert.notBefore ?? cert.notAfter,
            notAfter: cert.notAfter,
            ...(cert.keyPem ? { keyPem: cert.keyPem } : {}),
          },
        );
        if (cert.status === "revoked") {
          await tx.certificate.update({
            where: { id: row.id },
            data: { revokedAt: cert.revokedAt ?? new Date(), revocationReason: cert.reason ?? "unspecified" },
          });
        }
      }
      await regenerateCrl(tx, networkId);
      return pki.certificates.length;
    },

    privateKeyOf(row: Certificate): string | null {
      if (!row.keySealed) return null;
      return unseal(
        Buffer.from(row.keySealed),
        masterKey,
        sealContext.certificateKey(row.networkId, row.serial),
      ).toString("utf8");
    },

    tlsCryptKeyOf(network: Network): string | null {
      if (!network.tlsCryptKeySealed) return null;
      return unseal(Buffer.from(network.tlsCryptKeySealed), masterKey, sealContext.tlsCrypt(network.id)).toString(
        "utf8",
      );
    },

    /** Only switches hold it: the backbone links' key, which no host profile carries. */
    backboneTlsCryptKeyOf(network: Network): string | null {
      if (!network.backboneTlsCryptKeySealed) return null;
      const sealed = Buffer.from(network.backboneTlsCryptKeySealed);
      return unseal(sealed, masterKey, sealContext.backboneTlsCrypt(network.id)).toString("utf8");
    },

    /**
     * Both keys: the hosts' one (every profile must then be downloaded again) and the backbone
     * links' one (the switches get it with the next revision; their links reconnect).
     */
    async rotateTlsCrypt(tx: Tx, networkId: string) {
      return tx.network.update({
        where: { id: networkId },
        data: {
          tlsCryptKeySealed: bytes(seal(generateTlsCryptKey(), masterKey, sealContext.tlsCrypt(networkId))),
          backboneTlsCryptKeySealed: sealedBackboneKey(networkId),
          revision: { increment: 1 },
        },
      });
    },

    /**
     * Gives every network from before the backbone key its own one (run at start, before any
     * switch is served), bumping its revision so connected switches get the file. Safe with
     * several instances starting at once: a key is only set where there is none.
     */
    async addMissingBackboneKeys(prisma: Pick<Tx, "network">): Promise<number> {
      const missing = await prisma.network.findMany({
        where: { backboneTlsCryptKeySealed: null },
        select: { id: true },
      });
      let added = 0;
      for (const { id } of missing) {
        const { count } = await prisma.network.updateMany({
          where: { id, backboneTlsCryptKeySealed: null },
          data: { backboneTlsCryptKeySealed: sealedBackboneKey(id), revision: { increment: 1 } },
        });
        added += count;
      }
      return added;
    },

    /** True when the CRL has less than a third of its validity left (or none at all). */
    crlIsDue(network: Pick<Network, "crlNextUpdate">, now = new Date()) {
      if (!network.crlNextUpdate) return true;
      return network.crlNextUpdate.getTime() - now.getTime() < settings.crlValidityDays * DAY_MS * CRL_REFRESH_SHARE;
    },
  };
  return authority;
}

export type CertificateAuthority = ReturnType<typeof certificateAuthority>;

/** X.509 caps a common name at 64 characters; a network name may be 64 on its own. */
export function caCommonName(networkName: string): string {
  const room = 64 - "Switchboard  CA".length;
  const name = networkName.length > room ? `${networkName.slice(0, room - 1)}~` : networkName;
  return `Switchboard ${name} CA`;
}

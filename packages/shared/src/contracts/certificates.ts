import { type Static, Type } from "@sinclair/typebox";
import { CursorSchema, IdSchema, LimitSchema, Nullable, pageOf, TimestampSchema } from "./common.ts";

export const CertificateKindSchema = Type.Union([
  Type.Literal("ca"),
  Type.Literal("server"),
  Type.Literal("client"),
  Type.Literal("backbone"),
]);

/** RFC 5280 reasons an operator may give; the CA records others itself (superseded on rotation). */
export const RevocationReasonSchema = Type.Union([
  Type.Literal("unspecified"),
  Type.Literal("keyCompromise"),
  Type.Literal("caCompromise"),
  Type.Literal("affiliationChanged"),
  Type.Literal("superseded"),
  Type.Literal("cessationOfOperation"),
]);
export type RevocationReason = Static<typeof RevocationReasonSchema>;

export const CertificateSchema = Type.Object(
  {
    id: IdSchema,
    networkId: IdSchema,
    kind: CertificateKindSchema,
    serial: Type.String({ description: "uppercase hex, as in OpenSSL's index.txt" }),
    commonName: Type.String(),
    notBefore: TimestampSchema,
    notAfter: TimestampSchema,
    revokedAt: Nullable(TimestampSchema),
    revocationReason: Nullable(Type.String()),
    hostId: Nullable(IdSchema),
    switchId: Nullable(IdSchema),
    keyHeld: Type.Boolean({ description: "Switchboard generated and keeps the private key (sealed); false for a CSR" }),
    pem: Type.String({ description: "the certificate (never a private key)" }),
    createdAt: TimestampSchema,
  },
  { $id: "Certificate" },
);
export type Certificate = Static<typeof CertificateSchema>;

export const CertificateListQuerySchema = Type.Object(
  {
    networkId: Type.Optional(IdSchema),
    hostId: Type.Optional(IdSchema),
    switchId: Type.Optional(IdSchema),
    kind: Type.Optional(CertificateKindSchema),
    state: Type.Optional(
      Type.Union([Type.Literal("active"), Type.Literal("revoked"), Type.Literal("all")], { default: "all" }),
    ),
    expiringWithinDays: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 3650, description: "only certificates in force that expire within N days" }),
    ),
    limit: Type.Optional(LimitSchema),
    cursor: Type.Optional(CursorSchema),
  },
  { additionalProperties: false },
);
export type CertificateListQuery = Static<typeof CertificateListQuerySchema>;

export const CertificatePageSchema = pageOf(CertificateSchema);
export type CertificatePage = Static<typeof CertificatePageSchema>;

/** How many certificates there are, so an empty view can say what it leaves out. */
export const CertificateTotalsQuerySchema = Type.Object(
  { networkId: Type.Optional(IdSchema), kind: Type.Optional(CertificateKindSchema) },
  { additionalProperties: false },
);
export type CertificateTotalsQuery = Static<typeof CertificateTotalsQuerySchema>;
export const CertificateTotalsSchema = Type.Object({
  active: Type.Integer({ description: "in force (not revoked), expired ones included" }),
  revoked: Type.Integer(),
  expiringWithin30Days: Type.Integer({ description: "in force and expiring within 30 days (or expired)" }),
});
export type CertificateTotals = Static<typeof CertificateTotalsSchema>;

export const RevokeBodySchema = Type.Object(
  { reason: Type.Optional(RevocationReasonSchema) },
  { additionalProperties: false },
);
export type RevokeBody = Static<typeof RevokeBodySchema>;

const CsrSchema = Type.String({
  maxLength: 20_000,
  pattern:
    "^-----BEGIN (NEW )?CERTIFICATE REQUEST-----[A-Za-z0-9+/=\\r\\n]+-----END (NEW )?CERTIFICATE REQUEST-----\\s*$",
  description: "PEM certificate signing request whose subject is exactly CN=<common name>",
});

/** Issue (or rotate) a host's certificate: with a CSR the host keeps its key, without one it is generated here. */
export const IssueBodySchema = Type.Object(
  {
    csr: Type.Optional(CsrSchema),
    validityDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3650,
        description: "at most the server's cap (CERT_MAX_VALIDITY_DAYS, default 825); more is a 400",
      }),
    ),
  },
  { additionalProperties: false },
);
export type IssueBody = Static<typeof IssueBodySchema>;

/**
 * Re-issue a switch's server and backbone certificates with new keys (its key was lost or
 * compromised): the ones in force are revoked for `reason`, the CRL is republished and the
 * switch's agent receives the new files.
 */
export const SwitchReissueBodySchema = Type.Object(
  { reason: Type.Optional(RevocationReasonSchema) },
  { additionalProperties: false },
);
export type SwitchReissueBody = Static<typeof SwitchReissueBodySchema>;

export const SwitchCertificatesSchema = Type.Object({
  // One array rather than two fields: the Certificate schema has an $id, which may appear once.
  issued: Type.Array(CertificateSchema, { description: "the switch's new server and backbone certificates" }),
  revokedSerials: Type.Array(Type.String(), { description: "the certificates this replaced, now in the CRL" }),
});
export type SwitchCertificates = Static<typeof SwitchCertificatesSchema>;

export const ProfileQuerySchema = Type.Object(
  {
    /** The switch the host tries first (e.g. the one at its own provider). */
    firstSwitchId: Type.Optional(IdSchema),
  },
  { additionalProperties: false },
);
export type ProfileQuery = Static<typeof ProfileQuerySchema>;

export const NetworkPkiSchema = Type.Object({
  ca: CertificateSchema,
  crl: Type.Object({ number: Type.Integer(), nextUpdate: Nullable(TimestampSchema) }),
  tlsCryptKey: Type.Object({ present: Type.Boolean() }),
});
export type NetworkPki = Static<typeof NetworkPkiSchema>;

/** An easy-rsa 3 PKI folder's files, to migrate a network without re-keying its hosts. */
export const EasyRsaImportSchema = Type.Object(
  {
    caCert: Type.String({ maxLength: 20_000, description: "pki/ca.crt" }),
    caKey: Type.String({ maxLength: 20_000, description: "pki/private/ca.key (unencrypted)" }),
    index: Type.String({ maxLength: 5_000_000, description: "pki/index.txt" }),
    issued: Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description: "file name without .crt" }),
          pem: Type.String({ maxLength: 20_000 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 20_000, description: "pki/issued/<name>.crt" },
    ),
  },
  { additionalProperties: false },
);
export type EasyRsaImport = Static<typeof EasyRsaImportSchema>;

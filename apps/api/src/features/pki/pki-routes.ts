import { Type } from "@sinclair/typebox";
import {
  CertificateListQuerySchema,
  CertificatePageSchema,
  CertificateSchema,
  CertificateTotalsQuerySchema,
  CertificateTotalsSchema,
  EasyRsaImportSchema,
  ErrorResponseSchema,
  IdParamsSchema,
  IssueBodySchema,
  NetworkPkiSchema,
  ProfileQuerySchema,
  RevokeBodySchema,
  SwitchCertificatesSchema,
  SwitchReissueBodySchema,
} from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import type { TypedApp } from "../../http/typed-app.ts";
import { auditContextOf } from "../audit/request-audit.ts";
import type { Caller, PkiService } from "./pki-service.ts";

const tags = ["certificates"];
const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema };
/** Routes an operator reaches, where a switch's certificate still needs admin (pki-service.ts). */
const switchGuarded = { ...errors, 403: ErrorResponseSchema };

/** The caller's role; every route here is authenticated, so there is one. */
function callerOf(request: FastifyRequest): Caller {
  if (!request.identity) throw new Error("an authenticated route ran without an identity");
  return { role: request.identity.role };
}

export function pkiRoutes(app: TypedApp, pki: PkiService) {
  app.get(
    "/api/networks/:id/pki",
    {
      config: { access: "read" },
      schema: {
        tags,
        summary: "The network's CA, CRL state and tls-crypt key state",
        params: IdParamsSchema,
        response: { 200: NetworkPkiSchema, ...errors },
      },
    },
    (request) => pki.networkPki(request.params.id),
  );

  app.get(
    "/api/networks/:id/crl",
    {
      config: { access: "read" },
      schema: {
        tags,
        summary: "The network's current CRL (PEM)",
        params: IdParamsSchema,
        produces: ["application/x-pem-file"],
        response: { 200: Type.String(), ...errors },
      },
    },
    async (request, reply) => reply.type("application/x-pem-file").send(await pki.crl(request.params.id)),
  );

  app.post(
    "/api/networks/:id/tls-crypt/rotate",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "Replace the network's tls-crypt key (every profile must be downloaded again)",
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await pki.rotateTlsCrypt(request.params.id, auditContextOf(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/networks/:id/pki/import",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "Adopt an easy-rsa 3 PKI (CA, issued certificates, revocations) before the network issues its own",
        params: IdParamsSchema,
        body: EasyRsaImportSchema,
        response: { 201: Type.Object({ imported: Type.Integer(), warnings: Type.Array(Type.String()) }), ...errors },
      },
      bodyLimit: 50 * 1024 * 1024,
    },
    async (request, reply) =>
      reply.status(201).send(await pki.importEasyRsa(request.params.id, request.body, auditContextOf(request))),
  );

  app.get(
    "/api/certificates",
    {
      config: { access: "read" },
      schema: {
        tags,
        summary: "List certificates: by network, holder, kind, state, or expiring within N days",
        querystring: CertificateListQuerySchema,
        response: { 200: CertificatePageSchema, 400: ErrorResponseSchema },
      },
    },
    (request) => pki.list(request.query),
  );

  app.get(
    "/api/certificates/totals",
    {
      config: { access: "read" },
      schema: {
        tags,
        summary: "How many certificates are in force, revoked, and expiring within 30 days (by network, kind)",
        querystring: CertificateTotalsQuerySchema,
        response: { 200: CertificateTotalsSchema, 400: ErrorResponseSchema },
      },
    },
    (request) => pki.totals(request.query),
  );

  app.get(
    "/api/certificates/:id",
    {
      config: { access: "read" },
      schema: {
        tags,
        summary: "Get a certificate",
        params: IdParamsSchema,
        response: { 200: CertificateSchema, ...errors },
      },
    },
    (request) => pki.get(request.params.id),
  );

  app.post(
    "/api/certificates/:id/revoke",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Revoke a certificate and republish the CRL (a switch's server or backbone certificate: admin only)",
        description:
          "A revoked switch certificate leaves its switch without a desired state until " +
          "POST /api/switches/{id}/certificates/reissue gives it new ones.",
        params: IdParamsSchema,
        body: RevokeBodySchema,
        response: { 200: CertificateSchema, ...switchGuarded },
      },
    },
    (request) =>
      pki.revoke(request.params.id, request.body.reason ?? "unspecified", auditContextOf(request), callerOf(request)),
  );

  app.post(
    "/api/certificates/:id/renew",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Issue a fresh certificate for the same holder; the old one is revoked as superseded",
        description:
          "A switch's server or backbone certificate: admin only, and never with a CSR (the API keeps " +
          "switch keys to deliver them to the agent). validityDays is capped by CERT_MAX_VALIDITY_DAYS.",
        params: IdParamsSchema,
        body: IssueBodySchema,
        response: { 201: CertificateSchema, ...switchGuarded },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await pki.renew(request.params.id, request.body, auditContextOf(request), callerOf(request))),
  );

  app.post(
    "/api/switches/:id/certificates/reissue",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "New keys and certificates for a switch whose key was lost or compromised; the old ones are revoked",
        description:
          "Revokes the switch's server and backbone certificates in force (reason: keyCompromise unless " +
          "given), issues new ones with new keys, republishes the CRL, and sends the agent its new files. " +
          "Also brings back a switch whose certificates were revoked.",
        params: IdParamsSchema,
        body: SwitchReissueBodySchema,
        response: { 201: SwitchCertificatesSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await pki.reissueSwitch(request.params.id, request.body.reason ?? "keyCompromise", auditContextOf(request)),
        ),
  );

  app.post(
    "/api/hosts/:id/certificate",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Issue or rotate a host's certificate (with a CSR the host keeps its key); its address stays",
        description:
          "The one way back for a host whose certificate was revoked: its profile download does not issue one then.",
        params: IdParamsSchema,
        body: IssueBodySchema,
        response: { 201: CertificateSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await pki.issueForHost(request.params.id, request.body, auditContextOf(request))),
  );

  app.get(
    "/api/hosts/:id/profile",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Download the host's .ovpn profile (inline CA, certificate, key, tls-crypt); audited",
        description:
          "The first download issues the host's certificate. 409 when the host is disabled, or when its " +
          "certificate was revoked (issue a new one with POST /api/hosts/{id}/certificate first).",
        params: IdParamsSchema,
        querystring: ProfileQuerySchema,
        produces: ["application/x-openvpn-profile"],
        response: { 200: Type.String(), ...errors },
      },
    },
    async (request, reply) => {
      const profile = await pki.profile(request.params.id, auditContextOf(request), request.query);
      return reply
        .type("application/x-openvpn-profile")
        .header("content-disposition", `attachment; filename="${profile.fileName}"`)
        .header("cache-control", "no-store")
        .send(profile.text);
    },
  );
}

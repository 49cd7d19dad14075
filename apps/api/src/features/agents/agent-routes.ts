import { Type } from "@sinclair/typebox";
import {
  AgentStatusSchema,
  EnrollmentTokenSchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  ErrorResponseSchema,
  IdParamsSchema,
} from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import type { TypedApp } from "../../http/typed-app.ts";
import { publicBaseUrl } from "../../tls/transport.ts";
import { auditContextOf } from "../audit/request-audit.ts";
import type { AgentCredentials } from "./agent-credentials.ts";
import type { AgentStatusStore } from "./agent-status.ts";

const tags = ["agents"];
const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema };

/** What the operator runs on the switch as root; the fingerprint pins the API's own certificate. */
function enrollCommand(request: FastifyRequest, token: string) {
  const base = publicBaseUrl(request);
  // The Host header is the caller's to choose: only a plain host[:port] goes into a command line.
  const api = /^https?:\/\/[A-Za-z0-9.:[\]-]{1,260}$/.test(base) ? base : "https://<this API's address>";
  const fingerprint256 = request.server.transport.fingerprint256 ?? null;
  const pin = fingerprint256 ? ` --fingerprint ${fingerprint256}` : "";
  // Enrolled, then started (the unit runs `switchboard-agent run`): one line to paste, the service
  // only started when the enrollment worked.
  const command = `switchboard-agent enroll --api ${api} --token ${token}${pin} && systemctl enable --now switchboard-agent`;
  return { api, fingerprint256, command };
}

/** Enrollment, credentials and status of the agent on each switch. */
export function agentRoutes(app: TypedApp, credentials: AgentCredentials, status: AgentStatusStore) {
  app.post(
    "/api/switches/:id/enrollment",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "A one-time enrollment token for the switch's agent (valid 1 hour; replaces earlier unused ones)",
        params: IdParamsSchema,
        response: { 201: EnrollmentTokenSchema, ...errors },
      },
    },
    async (request, reply) => {
      const enrollment = await credentials.createEnrollment(request.params.id, auditContextOf(request));
      return reply.status(201).send({ ...enrollment, ...enrollCommand(request, enrollment.token) });
    },
  );

  app.post(
    "/api/agent/enroll",
    {
      // Public: the enrollment token in the body is the authentication.
      config: { access: "public" },
      schema: {
        tags,
        summary: "Trade an enrollment token for the agent's long-lived credential",
        body: EnrollRequestSchema,
        response: { 200: EnrollResponseSchema, 400: ErrorResponseSchema, 401: ErrorResponseSchema },
      },
    },
    (request) => credentials.enroll(request.body.token, auditContextOf(request)),
  );

  app.delete(
    "/api/switches/:id/agent-credential",
    {
      config: { access: "admin" },
      schema: {
        tags,
        summary: "Revoke the switch's agent credential and drop its channel",
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await credentials.revoke(request.params.id, auditContextOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/switches/:id/status",
    {
      config: { access: "read" },
      schema: {
        tags,
        summary: "The switch's agent: online, version, revision applied, last error, last seen",
        params: IdParamsSchema,
        response: { 200: AgentStatusSchema, ...errors },
      },
    },
    (request) => status.get(request.params.id),
  );
}

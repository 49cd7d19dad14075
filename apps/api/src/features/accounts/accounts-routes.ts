import { Type } from "@sinclair/typebox";
import {
  ApiTokenCreatedSchema,
  ApiTokenCreateSchema,
  ApiTokenSchema,
  AuditPageSchema,
  AuditQuerySchema,
  ErrorResponseSchema,
  IdParamsSchema,
  LoginSchema,
  LoginSessionSchema,
  PasswordChangeSchema,
  SetupSchema,
  SetupStateSchema,
  UserCreateSchema,
  UserSchema,
  UserUpdateSchema,
} from "@switchboard/shared";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Identity } from "../../auth/identity.ts";
import type { TypedApp } from "../../http/typed-app.ts";
import { isSecureRequest, sessionCookieName } from "../../tls/transport.ts";
import { auditContextOf } from "../audit/request-audit.ts";
import type { AccountsService, NewLogin } from "./accounts-service.ts";

const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
};

/** Routes behind `self` or stronger always have an identity; this makes that explicit for TypeScript. */
const who = (request: FastifyRequest): Identity => request.identity as Identity;

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, login: NewLogin) {
  reply.setCookie(sessionCookieName(request), login.cookieValue, {
    httpOnly: true,
    sameSite: "strict",
    secure: isSecureRequest(request),
    path: "/",
    expires: login.expiresAt,
  });
}

export interface SetupToken {
  /** The one-time token printed at start while no user exists; undefined once setup is done. */
  current(): string | undefined;
  consume(): void;
}

export function accountsRoutes(
  app: TypedApp,
  accounts: AccountsService,
  setupToken: SetupToken,
  idleTimeoutSeconds: number,
) {
  const origin = (request: FastifyRequest) => ({
    sourceAddress: request.ip,
    ...(typeof request.headers["user-agent"] === "string" ? { userAgent: request.headers["user-agent"] } : {}),
  });
  const loginReply = (login: NewLogin) => ({
    user: login.user,
    csrfToken: login.csrfToken,
    expiresAt: login.expiresAt.toISOString(),
    idleTimeoutSeconds,
  });

  app.get(
    "/api/setup",
    {
      config: { access: "public" },
      schema: {
        tags: ["accounts"],
        summary: "Whether the first administrator still has to be created",
        response: { 200: SetupStateSchema },
      },
    },
    async () => ({ needed: await accounts.setupNeeded() }),
  );

  app.post(
    "/api/setup",
    {
      config: { access: "public" },
      schema: {
        tags: ["accounts"],
        summary: "Create the first administrator with the one-time setup token printed at start",
        body: SetupSchema,
        response: { 201: LoginSessionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const login = await accounts.setup(request.body, setupToken.current(), auditContextOf(request), origin(request));
      setupToken.consume();
      setSessionCookie(request, reply, login);
      return reply.status(201).send(loginReply(login));
    },
  );

  app.post(
    "/api/session",
    {
      config: { access: "public" },
      schema: {
        tags: ["accounts"],
        summary: "Sign in; sets the session cookie and returns the CSRF token",
        body: LoginSchema,
        response: { 201: LoginSessionSchema, ...errors, 429: ErrorResponseSchema },
      },
    },
    async (request, reply) => {
      const login = await accounts.login(request.body, auditContextOf(request), origin(request));
      setSessionCookie(request, reply, login);
      return reply.status(201).send(loginReply(login));
    },
  );

  app.get(
    "/api/session",
    {
      config: { access: "self" },
      schema: {
        tags: ["accounts"],
        summary: "The current console session and its CSRF token",
        response: { 200: LoginSessionSchema, ...errors },
      },
    },
    (request) => accounts.session(who(request)),
  );

  app.delete(
    "/api/session",
    {
      config: { access: "self" },
      schema: {
        tags: ["accounts"],
        summary: "Sign out",
        querystring: Type.Object({ everywhere: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await accounts.logout(who(request), request.query.everywhere === true, auditContextOf(request));
      reply.clearCookie(sessionCookieName(request), { path: "/", secure: isSecureRequest(request) });
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/api/session/password",
    {
      config: { access: "self" },
      schema: {
        tags: ["accounts"],
        summary:
          "Change your own password; your other sessions end (wrong current passwords are throttled and audited)",
        body: PasswordChangeSchema,
        response: { 204: Type.Null(), ...errors, 429: ErrorResponseSchema },
      },
    },
    async (request, reply) => {
      await accounts.changeOwnPassword(
        who(request),
        request.body.currentPassword,
        request.body.newPassword,
        auditContextOf(request),
      );
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/users",
    {
      config: { access: "admin" },
      schema: { tags: ["accounts"], summary: "List users", response: { 200: Type.Array(UserSchema), ...errors } },
    },
    () => accounts.listUsers(),
  );

  app.post(
    "/api/users",
    {
      config: { access: "admin" },
      schema: {
        tags: ["accounts"],
        summary: "Create a user",
        body: UserCreateSchema,
        response: { 201: UserSchema, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await accounts.createUser(request.body, auditContextOf(request))),
  );

  app.patch(
    "/api/users/:id",
    {
      config: { access: "admin" },
      schema: {
        tags: ["accounts"],
        summary: "Change a user's role or password, or disable it (its sessions end)",
        params: IdParamsSchema,
        body: UserUpdateSchema,
        response: { 200: UserSchema, ...errors },
      },
    },
    (request) => accounts.updateUser(request.params.id, request.body, auditContextOf(request)),
  );

  app.delete(
    "/api/users/:id",
    {
      config: { access: "admin" },
      schema: {
        tags: ["accounts"],
        summary: "Delete a user",
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await accounts.deleteUser(request.params.id, auditContextOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/tokens",
    {
      config: { access: "admin" },
      schema: {
        tags: ["accounts"],
        summary: "List API tokens with their last use",
        response: { 200: Type.Array(ApiTokenSchema), ...errors },
      },
    },
    () => accounts.listTokens(),
  );

  app.post(
    "/api/tokens",
    {
      config: { access: "admin" },
      schema: {
        tags: ["accounts"],
        summary: "Create an API token bound to a role (shown once; default expiry 90 days)",
        body: ApiTokenCreateSchema,
        response: { 201: ApiTokenCreatedSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await accounts.createToken(request.body, who(request), auditContextOf(request))),
  );

  app.delete(
    "/api/tokens/:id",
    {
      config: { access: "admin" },
      schema: {
        tags: ["accounts"],
        summary: "Revoke an API token",
        params: IdParamsSchema,
        response: { 200: ApiTokenSchema, ...errors },
      },
    },
    (request) => accounts.revokeToken(request.params.id, auditContextOf(request)),
  );

  app.get(
    "/api/audit",
    {
      config: { access: "audit" },
      schema: {
        tags: ["accounts"],
        summary: "The audit log, newest first, filterable and paginated",
        querystring: AuditQuerySchema,
        response: { 200: AuditPageSchema, ...errors },
      },
    },
    (request) => accounts.audit(request.query),
  );
}

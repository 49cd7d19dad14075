import { type Static, Type } from "@sinclair/typebox";
import { CursorSchema, IdSchema, LimitSchema, Nullable, pageOf, TimestampSchema } from "./common.ts";

export const RoleSchema = Type.Union(
  [Type.Literal("admin"), Type.Literal("operator"), Type.Literal("viewer"), Type.Literal("auditor")],
  {
    description:
      "admin: everything; operator: hosts, sessions, certificates; viewer: read-only; auditor: read-only and the audit log",
  },
);
export type Role = Static<typeof RoleSchema>;

export const UsernameSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$",
  description: "letters, digits, '.', '_', '@', '-'; starts with a letter or digit; 1-64 characters",
});
export const PasswordSchema = Type.String({ minLength: 12, maxLength: 256, description: "12 to 256 characters" });

export const UserSchema = Type.Object(
  {
    id: IdSchema,
    username: Type.String(),
    role: RoleSchema,
    createdAt: TimestampSchema,
    disabledAt: Nullable(TimestampSchema),
  },
  { $id: "User" },
);
export type User = Static<typeof UserSchema>;

export const UserCreateSchema = Type.Object(
  { username: UsernameSchema, password: PasswordSchema, role: RoleSchema },
  { additionalProperties: false },
);
export type UserCreate = Static<typeof UserCreateSchema>;
export const UserUpdateSchema = Type.Partial(
  Type.Object({ role: RoleSchema, password: PasswordSchema, disabled: Type.Boolean() }),
  { additionalProperties: false, minProperties: 1 },
);
export type UserUpdate = Static<typeof UserUpdateSchema>;

export const LoginSchema = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);
export type Login = Static<typeof LoginSchema>;

export const SetupSchema = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }), username: UsernameSchema, password: PasswordSchema },
  { additionalProperties: false },
);
export type Setup = Static<typeof SetupSchema>;

/** What the console learns about its own session: the CSRF token it must send with changes. */
export const LoginSessionSchema = Type.Object({
  user: UserSchema,
  csrfToken: Type.String(),
  expiresAt: TimestampSchema,
  idleTimeoutSeconds: Type.Integer(),
});
export type LoginSession = Static<typeof LoginSessionSchema>;

export const PasswordChangeSchema = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: PasswordSchema },
  { additionalProperties: false },
);
export type PasswordChange = Static<typeof PasswordChangeSchema>;

export const ApiTokenSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    prefix: Type.String({ description: "first characters of the token, to tell tokens apart" }),
    role: RoleSchema,
    userId: Nullable(IdSchema),
    createdAt: TimestampSchema,
    expiresAt: Nullable(TimestampSchema),
    lastUsedAt: Nullable(TimestampSchema),
    revokedAt: Nullable(TimestampSchema),
  },
  { $id: "ApiToken" },
);
export type ApiToken = Static<typeof ApiTokenSchema>;

export const ApiTokenCreateSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: "^[^\\u0000-\\u001f\\u007f]+$",
      description: "1-100 characters, no control characters",
    }),
    role: RoleSchema,
    expiresInDays: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: 3650, description: "default 90; null: never expires" })),
    ),
  },
  { additionalProperties: false },
);
export type ApiTokenCreate = Static<typeof ApiTokenCreateSchema>;

export const ApiTokenCreatedSchema = Type.Object({
  token: Type.String({ description: "shown once: store it now" }),
  apiToken: ApiTokenSchema,
});
export type ApiTokenCreated = Static<typeof ApiTokenCreatedSchema>;

export const AuditEventSchema = Type.Object(
  {
    id: Type.String(),
    at: TimestampSchema,
    actorType: Type.String(),
    actorId: Nullable(Type.String()),
    actorName: Type.String(),
    action: Type.String(),
    targetType: Type.String(),
    targetId: Nullable(Type.String()),
    summary: Type.Unknown(),
    requestId: Nullable(Type.String()),
    sourceAddress: Nullable(Type.String()),
  },
  { $id: "AuditEvent" },
);
export type AuditEvent = Static<typeof AuditEventSchema>;

export const AuditQuerySchema = Type.Object(
  {
    action: Type.Optional(Type.String({ maxLength: 100, pattern: "^[a-z.-]+$" })),
    targetType: Type.Optional(Type.String({ maxLength: 50, pattern: "^[a-z-]+$" })),
    targetId: Type.Optional(Type.String({ maxLength: 100 })),
    actorName: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ format: "date-time" })),
    to: Type.Optional(Type.String({ format: "date-time" })),
    limit: Type.Optional(LimitSchema),
    cursor: Type.Optional(CursorSchema),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuerySchema>;
export const AuditPageSchema = pageOf(AuditEventSchema);
export type AuditPage = Static<typeof AuditPageSchema>;

export const SetupStateSchema = Type.Object({ needed: Type.Boolean() });

import { type Static, type TSchema, Type } from "@sinclair/typebox";

// Field formats shared by every contract. The API checks shape here (a 400 names the field and
// the rule); meaning (inside the subnet, not taken...) is checked by the services.

export const IPV4_PATTERN = "^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$";
export const CIDR_PATTERN = `${IPV4_PATTERN.slice(0, -1)}/(3[0-2]|[12]?\\d)$`;

export const IdSchema = Type.String({
  format: "uuid",
  pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
  description: "UUID",
});
export const Ipv4Schema = Type.String({
  pattern: IPV4_PATTERN,
  maxLength: 15,
  description: "IPv4 address, e.g. 10.100.100.7",
});
export const CidrSchema = Type.String({
  pattern: CIDR_PATTERN,
  maxLength: 18,
  description: "IPv4 subnet, e.g. 10.100.100.0/24",
});
/** Names that end up in file names and config files: a conservative alphabet, no leading dot or dash. */
export const SafeNameSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
  description: "letters, digits, '.', '-', '_'; starts with a letter or digit; 1-64 characters",
});
/**
 * A host's certificate common name, which is also its client-config-dir file name on every
 * switch. DEFAULT is the file OpenVPN falls back to for clients without their own, so no host
 * may be called that.
 */
export const CommonNameSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^(?![Dd][Ee][Ff][Aa][Uu][Ll][Tt]$)[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
  description: "letters, digits, '.', '-', '_'; starts with a letter or digit; 1-64 characters; not DEFAULT",
});
/** A DNS name or IPv4 address that clients put in `remote` lines. */
export const EndpointHostSchema = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern:
    "^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
  description: "host name or IPv4 address",
});
export const PortSchema = Type.Integer({ minimum: 1, maximum: 65535 });
export const TagSchema = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: "^[a-z0-9][a-z0-9._-]{0,31}$",
  description: "lowercase letters, digits, '.', '-', '_'; 1-32 characters",
});
/** Free text for people; never rendered into a config file. */
export const DescriptionSchema = Type.String({
  maxLength: 500,
  pattern: "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$",
  description: "up to 500 characters, no control characters",
});
export const TimestampSchema = Type.String({ format: "date-time" });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const SortOrderSchema = Type.Union([Type.Literal("asc"), Type.Literal("desc")], { default: "asc" });
export const LimitSchema = Type.Integer({ minimum: 1, maximum: 500, default: 50 });
export const CursorSchema = Type.String({
  maxLength: 512,
  pattern: "^[A-Za-z0-9_-]+$",
  description: "nextCursor of the previous page",
});

/** One page of a list; pass nextCursor back as `cursor` for the next one (null: last page). */
export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

export const IdParamsSchema = Type.Object({ id: IdSchema });
export type IdParams = Static<typeof IdParamsSchema>;

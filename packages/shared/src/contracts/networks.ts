import { type Static, Type } from "@sinclair/typebox";
import {
  CidrSchema,
  DescriptionSchema,
  IdSchema,
  Ipv4Schema,
  Nullable,
  PortSchema,
  SafeNameSchema,
  TimestampSchema,
} from "./common.ts";

/** AEAD ciphers OpenVPN 2.6 negotiates; CBC ciphers are not offered. */
export const DataCipherSchema = Type.Union([
  Type.Literal("AES-256-GCM"),
  Type.Literal("AES-128-GCM"),
  Type.Literal("AES-192-GCM"),
  Type.Literal("CHACHA20-POLY1305"),
]);
export type DataCipher = Static<typeof DataCipherSchema>;

const ProtoSchema = Type.Union([Type.Literal("udp"), Type.Literal("tcp")]);
const DomainSchema = Type.String({
  maxLength: 253,
  pattern:
    "^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
  description: "DNS domain pushed to hosts",
});

const networkFields = {
  description: DescriptionSchema,
  backboneSubnet: CidrSchema,
  proto: ProtoSchema,
  port: PortSchema,
  keepaliveInterval: Type.Integer({ minimum: 1, maximum: 300, description: "seconds between pings" }),
  keepaliveTimeout: Type.Integer({
    minimum: 2,
    maximum: 3600,
    description: "seconds without traffic before a restart",
  }),
  dataCiphers: Type.Array(DataCipherSchema, {
    minItems: 1,
    maxItems: 4,
    uniqueItems: true,
  }),
  pushRoutes: Type.Array(CidrSchema, { maxItems: 100, uniqueItems: true, description: "routes pushed to every host" }),
  dnsServers: Type.Array(Ipv4Schema, { maxItems: 4, uniqueItems: true }),
  dnsDomain: Nullable(DomainSchema),
};

export const NetworkSchema = Type.Object(
  {
    id: IdSchema,
    name: SafeNameSchema,
    dataSubnet: CidrSchema,
    ...networkFields,
    revision: Type.Integer({ description: "bumped whenever what the switches should have changes" }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { $id: "Network" },
);
export type Network = Static<typeof NetworkSchema>;

const { backboneSubnet, ...tunables } = networkFields;

export const NetworkCreateSchema = Type.Object(
  {
    name: SafeNameSchema,
    dataSubnet: CidrSchema,
    backboneSubnet,
    ...Type.Partial(Type.Object(tunables)).properties,
  },
  { additionalProperties: false },
);
export type NetworkCreate = Static<typeof NetworkCreateSchema>;

export const NetworkUpdateSchema = Type.Partial(
  Type.Object({ name: SafeNameSchema, dataSubnet: CidrSchema, ...networkFields }),
  { additionalProperties: false, minProperties: 1 },
);
export type NetworkUpdate = Static<typeof NetworkUpdateSchema>;

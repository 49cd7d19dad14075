import { type Static, Type } from "@sinclair/typebox";
import {
  EndpointHostSchema,
  IdSchema,
  Ipv4Schema,
  Nullable,
  PortSchema,
  SafeNameSchema,
  TimestampSchema,
} from "./common.ts";

/** A slice of the data subnet this switch hands to clients that have no static address. */
export const PoolSchema = Type.Object({ start: Ipv4Schema, end: Ipv4Schema }, { additionalProperties: false });

const switchFields = {
  name: SafeNameSchema,
  endpointHost: EndpointHostSchema,
  endpointPort: PortSchema,
  dataAddress: Ipv4Schema,
  pool: Nullable(PoolSchema),
  backboneAddress: Ipv4Schema,
  enabled: Type.Boolean(),
};

export const SwitchSchema = Type.Object(
  { id: IdSchema, networkId: IdSchema, ...switchFields, createdAt: TimestampSchema, updatedAt: TimestampSchema },
  { $id: "Switch" },
);
export type Switch = Static<typeof SwitchSchema>;

const { name, endpointHost, ...optional } = switchFields;

export const SwitchCreateSchema = Type.Object(
  {
    networkId: IdSchema,
    name,
    endpointHost,
    // Omitted: the network's port, the lowest free data and backbone addresses, no pool, enabled.
    ...Type.Partial(Type.Object(optional)).properties,
  },
  { additionalProperties: false },
);
export type SwitchCreate = Static<typeof SwitchCreateSchema>;

export const SwitchUpdateSchema = Type.Partial(Type.Object(switchFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type SwitchUpdate = Static<typeof SwitchUpdateSchema>;

export const SwitchListQuerySchema = Type.Object(
  { networkId: Type.Optional(IdSchema) },
  { additionalProperties: false },
);

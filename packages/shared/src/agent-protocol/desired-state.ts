import { type Static, Type } from "@sinclair/typebox";
import { CidrSchema, CommonNameSchema, Ipv4Schema, Nullable } from "../contracts/common.ts";
import { DeviceNameSchema, RevisionSchema, RouteSchema, SwitchIdSchema } from "./common.ts";

// What one switch should be: its own files only (never another switch's key), its hosts'
// client-config files, its backbone link configs and its routes. The agent maps each part to a
// fixed path under its base directory (render/paths.ts), so no message can name a path.

const text = (maxLength: number) => Type.String({ maxLength });

/** The data server's files. Any change to these but the CRL needs a SIGHUP (OpenVPN re-reads the CRL itself). */
export const ServerFilesSchema = Type.Object(
  {
    serverConfig: text(256 * 1024),
    caCert: text(64 * 1024),
    serverCert: text(64 * 1024),
    serverKey: text(64 * 1024),
    crl: text(8 * 1024 * 1024),
    tlsCryptKey: text(8 * 1024),
    /** The backbone links' own tls-crypt key (hosts never get it). */
    backboneTlsCryptKey: text(8 * 1024),
    backboneCert: text(64 * 1024),
    backboneKey: text(64 * 1024),
  },
  { additionalProperties: false },
);
export type ServerFiles = Static<typeof ServerFilesSchema>;
export type ServerFileName = keyof ServerFiles;

/** This switch's end of its link to the peer at `peerOffset` in the backbone subnet (naming.ts). */
export const DesiredBackboneLinkSchema = Type.Object(
  { peerOffset: Type.Integer({ minimum: 1, maximum: 65534 }), config: text(256 * 1024) },
  { additionalProperties: false },
);
export type DesiredBackboneLink = Static<typeof DesiredBackboneLinkSchema>;

/**
 * A host as one switch needs it: its ccd file (null when disabled: no file, so ccd-exclusive
 * refuses it) and the addresses the agent's local rule needs when the host connects here.
 */
export const DesiredHostSchema = Type.Object(
  {
    commonName: CommonNameSchema,
    address: Ipv4Schema,
    subnets: Type.Array(CidrSchema, { maxItems: 64 }),
    clientConfig: Nullable(text(64 * 1024)),
  },
  { additionalProperties: false },
);
export type DesiredHost = Static<typeof DesiredHostSchema>;

const MAX_HOSTS = 100_000;
const MAX_ROUTES = 200_000;

/**
 * Full desired state, sent on connect and whenever the API cannot send a delta. `routeCount`
 * lets the agent verify it received every route before it trusts the snapshot enough to
 * withdraw many routes at once (the blast-radius guard lets verified full snapshots through).
 */
export const DesiredStateSchema = Type.Object(
  {
    type: Type.Literal("desired-state"),
    switchId: SwitchIdSchema,
    revision: RevisionSchema,
    /** The server's tun device (naming.ts): the agent's local rule routes subnets behind its own hosts into it. */
    serverDevice: DeviceNameSchema,
    server: ServerFilesSchema,
    links: Type.Array(DesiredBackboneLinkSchema, { maxItems: 1024 }),
    hosts: Type.Array(DesiredHostSchema, { maxItems: MAX_HOSTS }),
    routes: Type.Array(RouteSchema, { maxItems: MAX_ROUTES }),
    routeCount: Type.Integer({ minimum: 0, maximum: MAX_ROUTES }),
  },
  { additionalProperties: false },
);
export type DesiredState = Static<typeof DesiredStateSchema>;

/**
 * Changes from `baseRevision` to `revision`. An agent whose revision is not `baseRevision` applies
 * nothing and acks with `resync: true`; the API then sends a full snapshot.
 */
export const DesiredStateDeltaSchema = Type.Object(
  {
    type: Type.Literal("desired-state-delta"),
    switchId: SwitchIdSchema,
    baseRevision: RevisionSchema,
    revision: RevisionSchema,
    serverDevice: Type.Optional(DeviceNameSchema),
    server: Type.Optional(Type.Partial(ServerFilesSchema, { additionalProperties: false })),
    links: Type.Optional(
      Type.Object(
        {
          upsert: Type.Array(DesiredBackboneLinkSchema, { maxItems: 1024 }),
          remove: Type.Array(Type.Integer({ minimum: 1, maximum: 65534 }), { maxItems: 1024 }),
        },
        { additionalProperties: false },
      ),
    ),
    hosts: Type.Optional(
      Type.Object(
        {
          upsert: Type.Array(DesiredHostSchema, { maxItems: MAX_HOSTS }),
          remove: Type.Array(CommonNameSchema, { maxItems: MAX_HOSTS }),
        },
        { additionalProperties: false },
      ),
    ),
    routes: Type.Optional(
      Type.Object(
        {
          upsert: Type.Array(RouteSchema, { maxItems: MAX_ROUTES }),
          /** Destinations (CIDR) to withdraw. */
          remove: Type.Array(CidrSchema, { maxItems: MAX_ROUTES }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DesiredStateDelta = Static<typeof DesiredStateDeltaSchema>;

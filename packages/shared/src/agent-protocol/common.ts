import { type Static, Type } from "@sinclair/typebox";
import { CidrSchema, Ipv4Schema } from "../contracts/common.ts";
import { SWITCH_ID_PATTERN } from "../render/validate.ts";

// Building blocks of the API <-> agent messages. Every message is checked against these on
// arrival (the agent with the compiled checker), so limits here are also the agent's defences.

/** Same alphabet the renderers accept for switch ids (they end up in backbone certificate CNs). */
export const SwitchIdSchema = Type.String({ pattern: SWITCH_ID_PATTERN.source, maxLength: 55 });

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1); ours are `sbs-*` and `sbb-*` (naming.ts). */
export const DeviceNameSchema = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$" });

/** Monotonic per switch; the agent acknowledges the last one it reached. */
export const RevisionSchema = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/**
 * One kernel route a switch should have: `ip route replace <destination> via <via> dev <dev>`.
 * Host routes are /32; subnets behind hosts keep their own prefix. `via` is a peer switch's
 * backbone address (route over the link to it) or, for a subnet behind a host connected here,
 * that host's data address on the server's tun device.
 */
export const RouteSchema = Type.Object(
  { destination: CidrSchema, via: Ipv4Schema, dev: DeviceNameSchema },
  { additionalProperties: false },
);
export type Route = Static<typeof RouteSchema>;

/**
 * Common names as OpenVPN reports them (status 3, hook env): not only the CN alphabet the API
 * issues, since an old or foreign certificate may still try to connect. Printable, no TAB or
 * newline (OpenVPN remaps those), bounded.
 */
export const ReportedCommonNameSchema = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: "^[^\\u0000-\\u001f\\u007f]+$",
});

/** "address:port" or "[v6]:port" as OpenVPN prints a client's real address, or the bare address. */
export const RealAddressSchema = Type.String({ minLength: 1, maxLength: 64, pattern: "^[0-9A-Fa-f:.\\[\\]]+$" });

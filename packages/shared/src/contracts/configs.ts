import { type Static, Type } from "@sinclair/typebox";
import { IdSchema, Nullable } from "./common.ts";

/** Where agents keep a network's files unless told otherwise: <dir>/<network tag>/. */
export const DEFAULT_AGENT_DIR = "/var/lib/switchboard-agent";

export const BackboneLinkPreviewSchema = Type.Object({
  peerId: IdSchema,
  peerName: Type.String(),
  role: Type.String({ description: "tls-server or tls-client end of the link" }),
  device: Type.String({ description: "tun device of this end" }),
  localPort: Type.Integer(),
  remotePort: Type.Integer(),
  configPath: Type.String(),
  config: Type.String({ description: "OpenVPN config of this switch's end" }),
});
export type BackboneLinkPreview = Static<typeof BackboneLinkPreviewSchema>;

export const ClientConfigFileSchema = Type.Object({
  fileName: Type.String({ description: "name of the file in the switches' client-config-dir" }),
  content: Nullable(Type.String({ description: "null: the host is disabled and has no file, so it cannot connect" })),
});
export type ClientConfigFile = Static<typeof ClientConfigFileSchema>;

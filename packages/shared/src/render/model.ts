/**
 * Inputs of the OpenVPN renderers. The API maps database rows to these; the renderers trust none
 * of it and validate every value that reaches a config (see validate.ts).
 */

export type TransportProto = "udp" | "tcp";

export interface RenderNetwork {
  /** Only hashed into device names (naming.ts); never written into a config. */
  readonly name: string;
  /** CIDR shared by every switch, /16 to /29, e.g. "10.100.100.0/24". */
  readonly dataSubnet: string;
  /** CIDR the switches' backbone addresses come from, /16 to /30. */
  readonly backboneSubnet: string;
  readonly proto: TransportProto;
  /** Port every switch's server listens on (the endpointPort of a switch may differ behind NAT). */
  readonly port: number;
  readonly keepaliveInterval: number;
  readonly keepaliveTimeout: number;
  /** AEAD cipher names only, in preference order. */
  readonly dataCiphers: readonly string[];
  /** CIDRs pushed to every host. */
  readonly pushRoutes: readonly string[];
  /** IPv4 resolvers pushed to every host. */
  readonly dnsServers: readonly string[];
  /** Absent, undefined or null (a nullable column) all mean: push no domain. */
  readonly dnsDomain?: string | null | undefined;
  /**
   * First port of the backbone range: a switch listens for its link to a peer on base + the
   * peer's offset in the backbone subnet (naming.ts). Defaults to `port`.
   */
  readonly backbonePortBase?: number | null | undefined;
  /** Profiles get `remote-random` when true; default false (remotes in stable order). */
  readonly remoteRandom?: boolean | null | undefined;
}

export interface RenderSwitch {
  /** Stable identifier; it names the switch's backbone certificate (naming.ts). */
  readonly id: string;
  /** Display only; used to order `remote` lines, never written into a config. */
  readonly name: string;
  /** Public host name or IP used in `remote` lines and by backbone peers. */
  readonly endpointHost: string;
  readonly endpointPort: number;
  readonly dataAddress: string;
  /** Dynamic pool slice; both null (a nullable column) when the switch serves static hosts only. */
  readonly poolStart: string | null;
  readonly poolEnd: string | null;
  readonly backboneAddress: string;
  readonly enabled: boolean;
}

export interface RenderHost {
  /** Certificate CN; also the host's client-config-dir file name. */
  readonly commonName: string;
  /** Static address in the data subnet. */
  readonly address: string;
  /** CIDRs behind the host: `iroute` on every switch. */
  readonly subnets: readonly string[];
  /** CIDRs pushed to this host only. */
  readonly pushRoutes: readonly string[];
  readonly enabled: boolean;
}

/** Every file a switch's OpenVPN processes read or write; `switchPaths(baseDir)` derives them. */
export interface RenderPaths {
  readonly baseDir: string;
  readonly serverConfig: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly backboneCert: string;
  readonly backboneKey: string;
  readonly crl: string;
  /** tls-crypt key of the data server, also in every host profile. */
  readonly tlsCryptKey: string;
  /** tls-crypt key of the backbone links: only switches hold it, so no host gets past a link's first gate. */
  readonly backboneTlsCryptKey: string;
  readonly ccdDir: string;
  readonly managementSocket: string;
  readonly statusFile: string;
  /** Executable the agent installs; OpenVPN runs it as client-connect and client-disconnect. */
  readonly hookCommand: string;
}

/** Inline material for a host profile; absent parts are left out (the PKI issue fills cert/key). */
export interface ProfileSecrets {
  readonly caPem: string;
  readonly certPem?: string | null | undefined;
  readonly keyPem?: string | null | undefined;
  readonly tlsCryptKey?: string | null | undefined;
}

/**
 * The network most tests, browser tests and benches start from, created through the REST API
 * the way an operator would: one network, its switches, its hosts. Callers pass their own
 * `post` (app.inject, fetch with a token, the console server's client), so one fixture serves all.
 */
export type Post = (path: string, body: unknown) => Promise<{ id: string } & Record<string, unknown>>;

export interface NetworkSpec {
  name?: string;
  dataSubnet?: string;
  backboneSubnet?: string;
  description?: string;
  /** Switch names; each gets `<name>.example.net` as its endpoint unless given. */
  switches?: readonly (string | { name: string; endpointHost?: string; [field: string]: unknown })[];
  /** Host common names, or host bodies (without networkId). */
  hosts?: readonly (string | ({ commonName: string } & Record<string, unknown>))[];
}

export interface SeededNetwork {
  networkId: string;
  switchIds: string[];
  hostIds: string[];
}

let counter = 0;

/** A network body with unique subnets, so several networks live in one database without overlap. */
export function networkBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    name: `net-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    dataSubnet: `10.${counter % 250}.0.0/24`,
    backboneSubnet: `172.16.${counter % 250}.0/24`,
    ...overrides,
  };
}

export async function seedNetwork(post: Post, spec: NetworkSpec = {}): Promise<SeededNetwork> {
  const { switches = [], hosts = [], ...fields } = spec;
  const network = await post("/api/networks", networkBody(fields));
  const switchIds: string[] = [];
  for (const entry of switches) {
    const body = typeof entry === "string" ? { name: entry } : entry;
    const created = await post("/api/switches", {
      endpointHost: `${body.name}.example.net`,
      ...body,
      networkId: network.id,
    });
    switchIds.push(created.id);
  }
  const hostIds: string[] = [];
  for (const entry of hosts) {
    const body = typeof entry === "string" ? { commonName: entry } : entry;
    hostIds.push((await post("/api/hosts", { ...body, networkId: network.id })).id);
  }
  return { networkId: network.id, switchIds, hostIds };
}

import fc from "fast-check";
import type { ApiClient } from "../support/api-client.ts";

/**
 * Networks, switches and hosts as an operator (or an attacker with an operator's token) might
 * send them: mostly plausible values, mixed with the edges and hostile spellings the issue 13
 * campaign found (special-use ranges, short prefixes, addresses that are not addresses, ports
 * near 65535). The API decides what it accepts; the property tests check that what it accepted
 * renders.
 */

const octet = fc.integer({ min: 0, max: 255 });
const SPECIAL_ADDRESSES = ["0.0.0.0", "127.0.0.1", "169.254.169.254", "224.0.0.251", "240.0.0.1", "255.255.255.255"];
const NOT_ADDRESSES = ["300.1.1.1", "1.2.3", "10.100.100.256", "0x0a.100.100.5", "vpn.123", "010.1.1.1"];

/** Plausible unicast addresses (private and public), and any dotted quad at all. */
const usualAddress = fc.tuple(fc.constantFrom(10, 172, 192, 100, 44, 203), octet, octet, octet).map((p) => p.join("."));
const anyAddress = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(octet, octet, octet, octet).map((p) => p.join(".")) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_ADDRESSES) },
);
/** Mostly what an operator would send, sometimes anything: so that many cases get accepted. */
const mostly = <T>(usual: fc.Arbitrary<T>, unusual: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: usual }, { weight: 1, arbitrary: unusual });

const toInt = (text: string) => text.split(".").reduce((value, part) => value * 256 + Number(part), 0);
const toText = (value: number) => [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");

/** A CIDR with its host bits cleared (nine times in ten) or left as given. */
const cidr = (minPrefix: number, maxPrefix: number, base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.integer({ min: minPrefix, max: maxPrefix }), fc.nat(9)).map(([address, prefix, coin]) => {
    const size = 2 ** (32 - prefix);
    const value = toInt(address);
    return `${toText(coin === 0 ? value : value - (value % size))}/${prefix}`;
  });
const anyCidr = fc.oneof(
  { weight: 4, arbitrary: cidr(8, 32, anyAddress) },
  { weight: 1, arbitrary: cidr(0, 7, anyAddress) },
);
const routes = (minPrefix: number, maxPrefix: number) =>
  mostly(
    fc.oneof(fc.constant([]), fc.uniqueArray(cidr(minPrefix, maxPrefix, usualAddress), { maxLength: 2 })),
    fc.uniqueArray(anyCidr, { minLength: 1, maxLength: 2 }),
  );

const port = fc.oneof(
  fc.integer({ min: 1, max: 65535 }),
  fc.integer({ min: 65000, max: 65535 }),
  fc.constantFrom(1194, 443),
);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join("."));
const dnsDomain = fc.option(mostly(fc.domain(), fc.constantFrom(...NOT_ADDRESSES, "10.0.0.1")), { nil: null });
const dnsServers = mostly(
  fc.uniqueArray(usualAddress, { maxLength: 2 }),
  fc.uniqueArray(anyAddress, { minLength: 1, maxLength: 2 }),
);
/** OpenVPN wants the restart timeout at least twice the ping interval; sometimes it is not. */
const keepalive = mostly(
  fc.tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 2, max: 12 })).map(([interval, factor]) => ({
    keepaliveInterval: interval,
    keepaliveTimeout: Math.min(3600, interval * factor),
  })),
  fc.record({
    keepaliveInterval: fc.integer({ min: 1, max: 300 }),
    keepaliveTimeout: fc.integer({ min: 2, max: 3600 }),
  }),
);

export const networkFields = fc
  .tuple(
    fc.record(
      {
        dataSubnet: mostly(cidr(16, 29, usualAddress), anyCidr),
        backboneSubnet: mostly(cidr(16, 30, usualAddress), anyCidr),
        proto: fc.constantFrom("udp", "tcp"),
        port,
        dataCiphers: fc.shuffledSubarray(["AES-256-GCM", "AES-128-GCM", "AES-192-GCM", "CHACHA20-POLY1305"], {
          minLength: 1,
        }),
        pushRoutes: routes(12, 30),
        dnsServers,
        dnsDomain,
      },
      { requiredKeys: ["dataSubnet", "backboneSubnet"] },
    ),
    fc.option(keepalive, { nil: undefined }),
  )
  .map(([fields, timers]) => ({ ...fields, ...timers }));

export const networkPatch = fc.record(
  { port, proto: fc.constantFrom("udp", "tcp"), pushRoutes: routes(12, 30), dnsServers, dnsDomain },
  { requiredKeys: [] },
);

const switchFields = fc.record(
  {
    endpointHost: mostly(fc.oneof(hostName, usualAddress), fc.oneof(anyAddress, fc.constantFrom(...NOT_ADDRESSES))),
    endpointPort: port,
    /** An offset into the backbone subnet (the API is asked for that address); 0: the API picks. */
    backboneOffset: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 })),
    enabled: fc.boolean(),
  },
  { requiredKeys: ["endpointHost"] },
);

const hostFields = fc.record(
  { subnets: routes(16, 30), pushRoutes: routes(12, 30), enabled: fc.boolean() },
  { requiredKeys: [] },
);

export const networkCase = fc.record({
  network: networkFields,
  switches: fc.array(switchFields, { minLength: 1, maxLength: 3 }),
  hosts: fc.array(hostFields, { maxLength: 2 }),
  patch: fc.option(networkPatch, { nil: undefined }),
});
export type NetworkCase = typeof networkCase extends fc.Arbitrary<infer T> ? T : never;

export interface Accepted {
  networkId: string;
  switchIds: string[];
  hostIds: string[];
  /** Every answer, for the "never a 5xx" check. */
  statuses: { request: string; status: number; text: string }[];
}

let serial = 0;

/** Sends one case through the API, keeping whatever it accepted (networkId "": it refused the network). */
export async function sendCase(api: ApiClient, spec: NetworkCase): Promise<Accepted> {
  serial += 1;
  const statuses: Accepted["statuses"] = [];
  const send = async (request: string, call: Promise<{ status: number; body: { id?: string }; text: string }>) => {
    const answer = await call;
    statuses.push({ request, status: answer.status, text: answer.text });
    return answer;
  };
  const created = await send(
    "POST /api/networks",
    api.post("/api/networks", { name: `gen-${serial}`, ...spec.network }),
  );
  if (created.status !== 201 || !created.body.id) {
    return { networkId: "", switchIds: [], hostIds: [], statuses };
  }
  const networkId = created.body.id;
  const backboneBase = toInt(spec.network.backboneSubnet.split("/")[0] as string);
  const accepted: Accepted = { networkId, switchIds: [], hostIds: [], statuses };
  for (const [i, { backboneOffset, ...sw }] of spec.switches.entries()) {
    const body = {
      networkId,
      name: `sw-${i}`,
      ...sw,
      ...(backboneOffset ? { backboneAddress: toText(backboneBase + backboneOffset) } : {}),
    };
    const answer = await send("POST /api/switches", api.post("/api/switches", body));
    if (answer.status === 201 && answer.body.id) accepted.switchIds.push(answer.body.id);
  }
  for (const [i, host] of spec.hosts.entries()) {
    const answer = await send("POST /api/hosts", api.post("/api/hosts", { networkId, commonName: `h-${i}`, ...host }));
    if (answer.status === 201 && answer.body.id) accepted.hostIds.push(answer.body.id);
  }
  if (spec.patch && Object.keys(spec.patch).length > 0) {
    await send("PATCH /api/networks/:id", api.patch(`/api/networks/${networkId}`, spec.patch));
  }
  return accepted;
}

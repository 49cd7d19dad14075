import type { AddressInfo } from "node:net";
import { type NetworkSpec, seedNetwork } from "@switchboard/testkit/network-fixture";
import { buildApp } from "../../src/app.ts";
import type { AgentsOptions } from "../../src/features/agents/agents-feature.ts";
import type { LiveSettings } from "../../src/features/live/live-socket.ts";
import type { PkiSettings } from "../../src/features/pki/pki-settings.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient } from "./api-client.ts";
import { defaultTokens, seedToken, testPki } from "./test-app.ts";
import { type DatabaseKind, openTestDatabase } from "./test-database.ts";

/** The whole API listening on 127.0.0.1 (any free port), for tests with real agents and websockets. */
export interface LiveApi {
  app: TypedApp;
  db: Awaited<ReturnType<typeof openTestDatabase>>;
  pki: PkiSettings;
  /** http://127.0.0.1:<port> */
  url: string;
  api: ApiClient;
  close(): Promise<void>;
}

export async function startLiveApi(
  kind: DatabaseKind,
  agents: AgentsOptions = {},
  live: Partial<LiveSettings> = {},
): Promise<LiveApi> {
  return startLiveApiOn(await openTestDatabase(kind), agents, live);
}

/** The same on a database the test opened itself (a server of its own it will stop and start). */
export async function startLiveApiOn(
  db: Awaited<ReturnType<typeof openTestDatabase>>,
  agents: AgentsOptions = {},
  live: Partial<LiveSettings> = {},
  /** Another instance of the same deployment passes the first one's (the same master key). */
  pki: PkiSettings = testPki(),
): Promise<LiveApi> {
  const app = await buildApp({
    db,
    pki,
    closeDatabaseOnClose: true,
    agents,
    live,
    ...(process.env.TEST_LOG ? { logger: { level: "warn" } } : {}),
  });
  defaultTokens.set(app, await seedToken(db, "admin"));
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, db, pki, url: `http://127.0.0.1:${port}`, api: apiClient(app), close: () => app.close() };
}

/** A network with `count` switches; returns their ids in creation order. */
export async function networkWithSwitches(api: ApiClient, count: number, spec: Omit<NetworkSpec, "switches"> = {}) {
  const seeded = await seedNetwork(created(api), {
    ...spec,
    switches: Array.from({ length: count }, (_, i) => `sw-${i}`),
  });
  return { networkId: seeded.networkId, switches: seeded.switchIds };
}

/** The fixture's `post`: the created resource, or a throw naming the refusal. */
export function created(api: ApiClient) {
  return async (path: string, body: unknown) => {
    const response = await api.post(path, body);
    if (response.status !== 201) throw new Error(`POST ${path}: ${response.status} ${response.text}`);
    return response.body;
  };
}

/** An enrollment token for the switch, straight from the admin route. */
export async function enrollmentToken(api: ApiClient, switchId: string): Promise<string> {
  const response = await api.post(`/api/switches/${switchId}/enrollment`, {});
  if (response.status !== 201) throw new Error(`enrollment: ${response.status} ${response.text}`);
  return response.body.token;
}

/** Enrolls the switch through the REST routes and returns its agent credential. */
export async function enrollSwitch(live: LiveApi, switchId: string): Promise<string> {
  const token = await enrollmentToken(live.api, switchId);
  const response = await apiClient(live.app, null).post("/api/agent/enroll", { token });
  if (response.status !== 200) throw new Error(`enroll: ${response.status} ${response.text}`);
  return response.body.credential;
}

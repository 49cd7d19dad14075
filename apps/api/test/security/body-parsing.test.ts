import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { openTestApp } from "../support/test-app.ts";

/**
 * Attacks on body parsing (issue 13, resource limits): a CSV body used to be parsed on every
 * route, before anyone was asked who they were, so one anonymous 20 MB CSV to /api/session held
 * the event loop for 30-60 s. Now only the import route reads CSV, and only after auth.
 */
describe("body parsing: CSV only where it is imported, only for who may import", () => {
  let app: TypedApp;
  let api: ApiClient;
  let anonymous: ApiClient;
  let networkId: string;
  const hugeCsv = `commonName\n${"h\n".repeat(10 * 1024 * 1024)}`;

  beforeAll(async () => {
    app = await openTestApp("pglite");
    api = apiClient(app);
    anonymous = apiClient(app, null);
    networkId = (await api.post("/api/networks", networkBody())).body.id;
  });
  afterAll(() => app.close());

  it("refuses an anonymous 20 MB CSV to the sign-in route as an unsupported type, without reading it as CSV", async () => {
    const response = await anonymous.post("/api/session", hugeCsv, { "content-type": "text/csv" });
    expect(response.status).toBe(415);
  });

  it("refuses CSV on every other route that takes a body", async () => {
    const response = await api.post("/api/networks", "name\nx\n", { "content-type": "text/csv" });
    expect(response.status).toBe(415);
  });

  it("answers an anonymous CSV import 401 before its body is read", async () => {
    const response = await anonymous.post(`/api/hosts/import?networkId=${networkId}`, hugeCsv, {
      "content-type": "text/csv",
    });
    expect(response.status).toBe(401);
  });

  it("refuses a CSV import with more rows than an import may hold, naming the body and the cap", async () => {
    const rows = Array.from({ length: 20_001 }, (_, i) => `row-${i}`).join("\n");
    const response = await api.post(`/api/hosts/import?networkId=${networkId}`, `commonName\n${rows}\n`, {
      "content-type": "text/csv",
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain("body has more than 20000 rows");
    expect((await api.get(`/api/hosts?networkId=${networkId}`)).body.items).toEqual([]);
  });

  it("refuses a CSV whose header names a column twice", async () => {
    const response = await api.post(
      `/api/hosts/import?networkId=${networkId}`,
      "commonName,address,address\nweb-1,10.1.0.50,10.1.0.51\n",
      { "content-type": "text/csv" },
    );
    expect(response.status).toBe(400);
    expect(response.body.message).toContain('has the column "address" twice');
  });

  it("still imports a good CSV", async () => {
    const response = await api.post(`/api/hosts/import?networkId=${networkId}`, "commonName\ncsv-1\ncsv-2\n", {
      "content-type": "text/csv",
    });
    expect(response.status).toBe(201);
    expect(response.body.created).toBe(2);
  });
});

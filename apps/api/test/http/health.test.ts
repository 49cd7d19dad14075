import { afterAll, beforeAll, expect, it } from "vitest";
import { buildApp } from "../../src/app.ts";
import type { Database } from "../../src/db/database.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { testPki } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase, openTestDatabase } from "../support/test-database.ts";

describeEachDatabase("health and errors", (kind: DatabaseKind) => {
  let db: Database;
  let app: TypedApp;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    app = await buildApp({ db, pki: testPki() });
  });
  afterAll(async () => {
    await app.close();
    await db.close();
  });

  it("answers /healthz without touching the database", async () => {
    const response = await app.inject({ method: "GET", url: "/healthz" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok", version: expect.any(String) });
  });

  it("answers /readyz with the database kind and its latency", async () => {
    const response = await app.inject({ method: "GET", url: "/readyz" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: "ready", database: { kind, ok: true } });
  });

  it("answers an unknown route with the one error shape and echoes the request id", async () => {
    const response = await app.inject({
      method: "GET",
      url: "/api/nothing-here",
      headers: { "x-request-id": "req-42" },
    });
    expect(response.statusCode).toBe(404);
    expect(response.headers["x-request-id"]).toBe("req-42");
    expect(response.json()).toEqual({
      statusCode: 404,
      error: "Not Found",
      message: "no route GET /api/nothing-here",
      requestId: "req-42",
    });
  });

  it("does not trust a hostile request id header", async () => {
    const response = await app.inject({ method: "GET", url: "/nope", headers: { "x-request-id": "a\u0000b c" } });
    expect(response.json().requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("serves the OpenAPI document", async () => {
    const response = await app.inject({ method: "GET", url: "/api/docs/json" });
    expect(response.statusCode).toBe(200);
    expect(response.json().paths).toHaveProperty("/readyz");
  });

  it("reports 503 on /readyz once the database is gone", async () => {
    await db.close();
    const response = await app.inject({ method: "GET", url: "/readyz" });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: "unavailable", database: { kind, ok: false } });
  });
});

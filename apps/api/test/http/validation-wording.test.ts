import { Type } from "@sinclair/typebox";
import { Nullable } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validationProblems } from "../../src/http/error-handler.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { validatorCompiler } from "../../src/http/validation.ts";
import { type ApiClient, apiClient } from "../support/api-client.ts";
import { openTestApp } from "../support/test-app.ts";

/** Ajv's own words ("must NOT have fewer than", "must be null", "must be equal to constant"). */
const VALIDATOR_WORDS =
  /must NOT|must be null|must be equal to|must match|must be (string|integer|number|boolean|array|object)\b/;

describe("validation messages are sentences about the input (issue 18, bug 5)", () => {
  let app: TypedApp;
  let api: ApiClient;
  beforeAll(async () => {
    app = await openTestApp("pglite");
    api = apiClient(app);
  });
  afterAll(() => app.close());

  it("says how long a password must be, and which roles there are", async () => {
    const refused = await api.post("/api/users", { username: "vera", password: "short", role: "boss" });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { field: "body.password", message: "must be at least 12 characters long" },
      { field: "body.role", message: "must be one of: admin, operator, viewer, auditor" },
    ]);
    expect(refused.body.message).not.toMatch(VALIDATOR_WORDS);
  });

  it("names the type a field must have in words", async () => {
    const refused = await api.get("/api/certificates?state=soon&limit=0");
    expect(refused.status).toBe(400);
    expect(refused.body.message).not.toMatch(VALIDATOR_WORDS);
    expect(refused.body.message).toContain("querystring.state must be one of: active, revoked, all");
    expect(refused.body.message).toMatch(/querystring\.limit must be \d+ or more/);
  });

  it("gives a nullable field's real rule, not its 'must be null' branch", () => {
    const check = validatorCompiler()({
      schema: Type.Object({ description: Nullable(Type.String({ minLength: 1 })), port: Type.Integer() }),
      httpPart: "body",
      url: "/x",
      method: "POST",
    }) as ((data: unknown) => boolean) & { errors: Parameters<typeof validationProblems>[1] };
    expect(check({ description: "", port: "1194" })).toBe(false);
    expect(validationProblems("body", check.errors)).toEqual([
      { field: "body.description", message: "must not be empty" },
      { field: "body.port", message: "must be a whole number" },
    ]);
  });
});

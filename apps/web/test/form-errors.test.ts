import { describe, expect, it } from "vitest";
import { fieldProblems, problemsOf } from "../src/api/form-errors.ts";
import { ApiError } from "../src/api/http.ts";

const body = (message: string, errors?: { row?: number; field: string; message: string }[]) => ({
  statusCode: 400,
  error: "Bad Request",
  message,
  requestId: "r1",
  ...(errors ? { errors } : {}),
});

describe("API validation errors at form fields", () => {
  it("puts a single problem, named at the start of the message, on its field", () => {
    const problems = problemsOf(body("body.address is outside the data subnet 10.0.0.0/24"), ["address", "tags"]);
    expect(problems).toEqual({ fields: { address: "is outside the data subnet 10.0.0.0/24" }, general: undefined });
  });

  it("puts each problem of the errors list on its field, the first one per field winning", () => {
    const problems = problemsOf(
      body("several", [
        { field: "body.commonName", message: "must be letters, digits" },
        { field: "body.tags.2", message: "must be lowercase" },
        { field: "body.tags.3", message: "must be lowercase too" },
      ]),
      ["commonName", "tags"],
    );
    expect(problems.fields).toEqual({ commonName: "must be letters, digits", tags: "must be lowercase" });
    expect(problems.general).toBeUndefined();
  });

  it("maps a nested path to the longest form field that prefixes it", () => {
    expect(problemsOf(body("body.pool.start is not in the subnet"), ["pool", "pool.start"]).fields).toEqual({
      "pool.start": "is not in the subnet",
    });
    expect(problemsOf(body("body.pool.end is not in the subnet"), ["pool"]).fields).toEqual({
      pool: "is not in the subnet",
    });
  });

  it("keeps what names no field of the form as a general message, so nothing is lost", () => {
    expect(problemsOf(body("network 123 does not exist"), ["address"])).toEqual({
      fields: {},
      general: "network 123 does not exist",
    });
    const mixed = problemsOf(
      body("x", [
        { field: "body.address", message: "is taken" },
        { field: "body.secret", message: "is not a known field" },
      ]),
      ["address"],
    );
    expect(mixed).toEqual({ fields: { address: "is taken" }, general: "body.secret is not a known field" });
  });

  it("turns a failure without the API's error body into a general message", () => {
    expect(fieldProblems(new ApiError(502, undefined), ["address"])).toEqual({
      fields: {},
      general: "request failed with HTTP 502",
    });
    expect(fieldProblems(new TypeError("Failed to fetch"), ["address"]).general).toBe("Failed to fetch");
  });
});

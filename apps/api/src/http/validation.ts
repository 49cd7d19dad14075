import Ajv, { type Options } from "ajv";
import addFormats from "ajv-formats";
import type { FastifySchemaCompiler, FastifySchemaValidationError } from "fastify";
import { findTextIssues } from "./text-check.ts";

const common: Options = { allErrors: true, verbose: true, strict: false, removeAdditional: false, useDefaults: true };

/**
 * Query strings and path parameters arrive as text, so they are coerced ("50" -> 50); a JSON body
 * is not: `"port": "1194"` is a wrong type and gets a 400, as an automation client would want.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...common, coerceTypes: "array" }));
  return ({ schema, httpPart }) => {
    const validate = (httpPart === "body" ? strict : coercing).compile(schema as object);
    // Fastify reads `.errors` off the function it is given, as Ajv's own validators carry them.
    const checked = (data: unknown) => {
      const valid = validate(data);
      const textIssues = findTextIssues(data);
      checked.errors = [...(validate.errors ?? []), ...textIssues] as FastifySchemaValidationError[];
      return valid && textIssues.length === 0;
    };
    checked.errors = [] as FastifySchemaValidationError[];
    return checked;
  };
}

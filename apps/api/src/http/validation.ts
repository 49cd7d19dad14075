import Ajv, { type Options } from "ajv";
import addFormats from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";

const common: Options = { allErrors: true, verbose: true, strict: false, removeAdditional: false, useDefaults: true };

/**
 * Query strings and path parameters arrive as text, so they are coerced ("50" -> 50); a JSON body
 * is not: `"port": "1194"` is a wrong type and gets a 400, as an automation client would want.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...common, coerceTypes: "array" }));
  return ({ schema, httpPart }) => (httpPart === "body" ? strict : coercing).compile(schema as object);
}

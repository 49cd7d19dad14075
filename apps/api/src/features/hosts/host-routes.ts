import { Type } from "@sinclair/typebox";
import {
  ErrorResponseSchema,
  HostCreateSchema,
  HostImportResultSchema,
  HostImportSchema,
  HostListQuerySchema,
  HostPageSchema,
  HostSchema,
  HostUpdateSchema,
  IdParamsSchema,
  IdSchema,
} from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import { ROLE_GRANTS } from "../../auth/access.ts";
import type { TypedApp } from "../../http/typed-app.ts";
import { auditContextOf } from "../audit/request-audit.ts";
import { apiAddressesOf } from "./api-addresses.ts";
import { parseHostCsv } from "./host-csv.ts";
import type { HostCaller } from "./host-route-rules.ts";
import type { HostService } from "./host-service.ts";
import { type ScreenedImport, screenImportRows } from "./import-screen.ts";

const tags = ["hosts"];
/** A CSV import's raw text, as the parser hands it on; no JSON body can be one. */
class CsvText {
  constructor(readonly text: string) {}
}
const MAX_CSV_BYTES = 20 * 1024 * 1024;
/** An import's rows the schema refused, set aside before validation (import-screen.ts). */
const screenedImports = new WeakMap<FastifyRequest, ScreenedImport | undefined>();
const errors = {
  400: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
};

/** Short prefixes behind a host need the admin grant (host-route-rules.ts); the API's addresses come from the request. */
function callerOf(request: FastifyRequest): HostCaller {
  const role = request.identity?.role;
  return { isAdmin: role !== undefined && ROLE_GRANTS[role].has("admin"), apiAddresses: apiAddressesOf(request) };
}

export function hostRoutes(app: TypedApp, hosts: HostService) {
  app.get(
    "/api/hosts",
    {
      config: { access: "read" },
      schema: {
        tags,
        summary:
          "List hosts: filter by network, tag, enabled, text, switch or online (live session); sort; page with nextCursor",
        querystring: HostListQuerySchema,
        response: { 200: HostPageSchema, 400: ErrorResponseSchema },
      },
    },
    (request) => hosts.list(request.query),
  );

  app.post(
    "/api/hosts",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Add a host; without an address it gets the lowest free static address",
        body: HostCreateSchema,
        response: { 201: HostSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await hosts.create(request.body, auditContextOf(request), callerOf(request))),
  );

  // The CSV parser lives in this route's own scope: no other route accepts text/csv, and the
  // text is only read into rows in preValidation, after auth (onRequest) knows who is asking.
  app.register(async (scope: TypedApp) => {
    scope.addContentTypeParser(["text/csv"], { parseAs: "string", bodyLimit: MAX_CSV_BYTES }, (_request, body, done) =>
      done(null, new CsvText(String(body))),
    );
    scope.post(
      "/api/hosts/import",
      {
        config: { access: "operate" },
        schema: {
          tags,
          summary: "Import many hosts at once, all or nothing (JSON body, or CSV with ?networkId=)",
          description:
            "CSV: a header row with commonName and optionally address, description, tags, enabled, subnets, pushRoutes; list cells separated by spaces or ';'. A 400 lists every bad row in `errors`.",
          querystring: Type.Object({ networkId: Type.Optional(IdSchema) }, { additionalProperties: false }),
          body: HostImportSchema,
          response: { 201: HostImportResultSchema, ...errors },
        },
        preValidation: async (request) => {
          const body: unknown = request.body;
          if (body instanceof CsvText) {
            const networkId = (request.query as { networkId?: string }).networkId;
            // Validation runs next, on exactly what a JSON import would have sent.
            (request as { body: unknown }).body = { networkId, hosts: parseHostCsv(body.text) };
          }
          screenedImports.set(request, screenImportRows(request.body));
        },
      },
      async (request, reply) => {
        const screened = screenedImports.get(request);
        const created = await hosts.import(request.body, auditContextOf(request), callerOf(request), screened);
        return reply.status(201).send({ created: created.length, hosts: created });
      },
    );
  });

  app.get(
    "/api/hosts/:id",
    {
      config: { access: "read" },
      schema: { tags, summary: "Get a host", params: IdParamsSchema, response: { 200: HostSchema, ...errors } },
    },
    (request) => hosts.get(request.params.id),
  );

  app.patch(
    "/api/hosts/:id",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Change a host (its common name is fixed: it is in its certificate)",
        params: IdParamsSchema,
        body: HostUpdateSchema,
        response: { 200: HostSchema, ...errors },
      },
    },
    (request) => hosts.update(request.params.id, request.body, auditContextOf(request), callerOf(request)),
  );

  app.delete(
    "/api/hosts/:id",
    {
      config: { access: "operate" },
      schema: {
        tags,
        summary: "Remove a host and free its address",
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await hosts.remove(request.params.id, auditContextOf(request));
      return reply.status(204).send(null);
    },
  );
}

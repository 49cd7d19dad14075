import { STATUS_CODES } from "node:http";
import { type ErrorResponse, RenderError } from "@switchboard/shared";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** A failure the client caused or may see (404, 409, ...); its message is safe to show. */
export class HttpError extends Error {
  /** Seconds after which the client may try again (sent as Retry-After, e.g. on a 429). */
  retryAfter?: number;

  constructor(
    readonly statusCode: number,
    message: string,
    /** The input field at fault, when one is (e.g. body.address). */
    readonly field?: string,
    /** The rule it broke, without the field name. */
    readonly rule?: string,
    /** Every problem of a bulk request. */
    readonly errors?: ErrorResponse["errors"],
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export function sendError(
  reply: FastifyReply,
  request: FastifyRequest,
  statusCode: number,
  message: string,
  errors?: ErrorResponse["errors"],
) {
  const body: ErrorResponse = {
    statusCode,
    error: STATUS_CODES[statusCode] ?? "Error",
    message,
    requestId: String(request.id),
    ...(errors ? { errors } : {}),
  };
  return reply.status(statusCode).send(body);
}

/**
 * One error shape for every route. Validation errors name the field and the rule; anything
 * unexpected is logged in full and answered with a bare 500 that leaks nothing.
 */
export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      if (error.retryAfter !== undefined) reply.header("retry-after", String(error.retryAfter));
      return sendError(reply, request, error.statusCode, error.message, error.errors);
    }
    // Stored data that breaks a rendering rule (no enabled switch for a profile...): fix the data.
    if (error instanceof RenderError)
      return sendError(reply, request, 409, `cannot render the config: ${error.message}`);
    if (error.validation) {
      const problems = validationProblems(error.validationContext ?? "request", error.validation);
      const message = problems
        .slice(0, 5)
        .map((p) => `${p.field} ${p.message}`)
        .join("; ");
      return sendError(reply, request, 400, message, problems.length > 1 ? problems : undefined);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(reply, request, status, error.message);
    if (isDatabaseBusy(error)) {
      request.log.warn({ err: error }, "database busy: no connection or transaction slot in time");
      reply.header("retry-after", "1");
      return sendError(reply, request, 503, "the database is busy right now; nothing was changed, retry shortly");
    }
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, "database unavailable");
      reply.header("retry-after", "2");
      return sendError(reply, request, 503, "the database is unavailable right now; retry shortly");
    }
    request.log.error({ err: error }, "request failed");
    return sendError(reply, request, 500, "internal error; the server log has details under this request id");
  });
}

export function sendNotFound(request: FastifyRequest, reply: FastifyReply) {
  return sendError(reply, request, 404, `no route ${request.method} ${request.url.split("?")[0]}`);
}

export interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: { description?: string };
}

/**
 * Turns Ajv's issues into "field rule" pairs a person can act on: the field as a dotted path,
 * the rule in words (a pattern is explained by its schema's description, not shown as a regex).
 * A bulk body's row number is lifted out of paths like body.hosts.3.address.
 */
export function validationProblems(context: string, issues: readonly ValidationIssue[]) {
  const seen = new Set<string>();
  const problems: { row?: number; field: string; message: string }[] = [];
  // A nullable field's "must be null" branch says nothing useful beside the other branch's reason.
  const paths = new Map<string, number>();
  for (const issue of issues) paths.set(issue.instancePath, (paths.get(issue.instancePath) ?? 0) + 1);
  for (const issue of issues) {
    let field = `${context}${issue.instancePath.replaceAll("/", ".")}`;
    if (isNullBranch(issue) && (paths.get(issue.instancePath) ?? 0) > 2) continue;
    let message = ruleInWords(issue);
    if (issue.keyword === "required") {
      field = `${field}.${String(issue.params.missingProperty)}`;
      message = "is required";
    } else if (issue.keyword === "additionalProperties") {
      field = `${field}.${String(issue.params.additionalProperty)}`;
      message = "is not a known field";
    } else if (issue.keyword === "pattern" || issue.keyword === "format") {
      const description = issue.parentSchema?.description;
      message = description ? `must be ${description}` : message;
    } else if (issue.keyword === "anyOf") {
      continue; // its branches already said what is wrong
    } else if (issue.keyword === "const") {
      // A union of literals fails each one: one sentence listing them all.
      const allowed = issues
        .filter((other) => other.instancePath === issue.instancePath && other.keyword === "const")
        .map((other) => String(other.params.allowedValue));
      if (allowed.length > 1) message = `must be one of: ${allowed.join(", ")}`;
    }
    const key = `${field} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const row = /^body\.[A-Za-z]+\.(\d+)(\.|$)/.exec(field)?.[1];
    problems.push({ ...(row !== undefined ? { row: Number(row) } : {}), field, message });
  }
  return problems.length > 0 ? problems : [{ field: context, message: "is invalid" }];
}

const isNullBranch = (issue: ValidationIssue) => issue.keyword === "type" && issue.params.type === "null";

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "an object with named fields",
  null: "empty (null)",
};

const count = (n: unknown, one: string) => `${String(n)} ${n === 1 ? one : `${one}s`}`;

/**
 * Ajv's rule in a sentence about the input ("must be at least 12 characters long", not "must NOT
 * have fewer than 12 characters"): people read these at their form fields.
 */
function ruleInWords(issue: ValidationIssue): string {
  const p = issue.params;
  switch (issue.keyword) {
    case "type": {
      const types = String(p.type).split(",");
      return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(" or ")}`;
    }
    case "minLength":
      return p.limit === 1 ? "must not be empty" : `must be at least ${count(p.limit, "character")} long`;
    case "maxLength":
      return `must be at most ${count(p.limit, "character")} long`;
    case "minimum":
      return `must be ${String(p.limit)} or more`;
    case "maximum":
      return `must be ${String(p.limit)} or less`;
    case "exclusiveMinimum":
      return `must be more than ${String(p.limit)}`;
    case "exclusiveMaximum":
      return `must be less than ${String(p.limit)}`;
    case "minItems":
      return p.limit === 1 ? "must list at least one item" : `must list at least ${count(p.limit, "item")}`;
    case "maxItems":
      return `must list at most ${count(p.limit, "item")}`;
    case "uniqueItems":
      return "must not list the same item twice";
    case "enum":
      return `must be one of: ${((p.allowedValues as unknown[]) ?? []).map(String).join(", ")}`;
    case "const":
      return `must be ${String(p.allowedValue)}`;
    case "pattern":
      return "does not have the expected form";
    case "format":
      return `must be a valid ${String(p.format)}`;
    case "minProperties":
      return p.limit === 1 ? "must set at least one field" : `must set at least ${count(p.limit, "field")}`;
    default:
      // Our own checks (text-check.ts) already speak in sentences; Ajv's other keywords are rare here.
      return issue.message && !/must (NOT|match|pass)/.test(issue.message) ? issue.message : "is not valid here";
  }
}

/**
 * A burst of writes can outgrow the connection pool: the request waited its full time for a
 * connection (pg) or a transaction slot (Prisma P2028) and nothing ran. That is a retryable 503,
 * not an internal error.
 */
function isDatabaseBusy(error: unknown): boolean {
  for (let cause: unknown = error, depth = 0; cause && depth < 5; depth++) {
    const { message, code } = cause as { message?: unknown; code?: unknown };
    if (code === "P2028") return true;
    if (
      typeof message === "string" &&
      /timeout exceeded when trying to connect|Unable to start a transaction in the given time/.test(message)
    )
      return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The database cannot be reached or dropped the connection (server down, restarting, backend
 * terminated): whatever the request did was not committed, and the pool reconnects by itself, so
 * the answer is a 503 with Retry-After, never a 500. Codes: Node's socket errors, PostgreSQL's
 * class 08 (connection exception) and 57P0x (admin shutdown, crash, cannot connect now), Prisma's
 * P1001/P1017 (cannot reach / closed the connection).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause: unknown = error, depth = 0; cause && depth < 6; depth++) {
    const { message, code } = cause as { message?: unknown; code?: unknown };
    if (typeof code === "string" && DATABASE_DOWN_CODES.test(code)) return true;
    if (typeof message === "string" && DATABASE_DOWN_MESSAGES.test(message)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

const DATABASE_DOWN_CODES =
  /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|08\d{3}|08P01|57P0[1-3]|P1001|P1017)$/;
const DATABASE_DOWN_MESSAGES =
  /Connection terminated|terminating connection due to administrator command|the database system is (starting up|shutting down)|Client has encountered a connection error|connect ECONNREFUSED/;

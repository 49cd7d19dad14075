import { STATUS_CODES } from "node:http";
import type { ErrorResponse } from "@switchboard/shared";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** A failure the client caused or may see (404, 409, ...); its message is safe to show. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export function sendError(reply: FastifyReply, request: FastifyRequest, statusCode: number, message: string) {
  const body: ErrorResponse = {
    statusCode,
    error: STATUS_CODES[statusCode] ?? "Error",
    message,
    requestId: String(request.id),
  };
  return reply.status(statusCode).send(body);
}

/**
 * One error shape for every route. Validation errors name the field and the rule; anything
 * unexpected is logged in full and answered with a bare 500 that leaks nothing.
 */
export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpError) return sendError(reply, request, error.statusCode, error.message);
    if (error.validation) {
      const message = error.validation
        .map((issue) => {
          const field = `${error.validationContext ?? "request"}${issue.instancePath.replaceAll("/", ".")}`;
          const missing = (issue.params as { missingProperty?: string }).missingProperty;
          return missing ? `${field}.${missing} is required` : `${field} ${issue.message}`;
        })
        .join("; ");
      return sendError(reply, request, 400, message);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(reply, request, status, error.message);
    request.log.error({ err: error }, "request failed");
    return sendError(reply, request, 500, "internal error; the server log has details under this request id");
  });
}

export function sendNotFound(request: FastifyRequest, reply: FastifyReply) {
  return sendError(reply, request, 404, `no route ${request.method} ${request.url.split("?")[0]}`);
}

import { type Static, Type } from "@sinclair/typebox";

/** The one shape of every API error: 4xx name the field and the rule, 5xx never leak internals. */
export const ErrorResponseSchema = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    error: Type.String({ description: "HTTP reason phrase, e.g. Bad Request" }),
    message: Type.String({ description: "What went wrong and, for bad input, which field broke which rule" }),
    requestId: Type.String({ description: "Quote this when reporting a problem; it is in the server log too" }),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          row: Type.Optional(Type.Integer({ description: "0-based row of a bulk request" })),
          field: Type.String(),
          message: Type.String({ description: "the rule the field broke" }),
        }),
        { description: "every problem of a bulk request, when there are several" },
      ),
    ),
  },
  { $id: "ErrorResponse" },
);
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

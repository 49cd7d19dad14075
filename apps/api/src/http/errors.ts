import type { Unavailable } from "@switchboard/shared";
import { HttpError } from "./error-handler.ts";

/** 400: `field` broke `rule`, e.g. badRequest("body.address", "is outside the data subnet 10.0.0.0/24"). */
export const badRequest = (field: string, rule: string) => new HttpError(400, `${field} ${rule}`, field, rule);
/** 409: the request is well-formed but clashes with what exists (a duplicate, an overlap). */
export const conflict = (field: string, rule: string) => new HttpError(409, `${field} ${rule}`, field, rule);
export const notFound = (what: string, id: string) => new HttpError(404, `${what} ${id} does not exist`);
/** An address the plan refused: 409 when it clashes with something that exists, else 400. */
export const refuse = (field: string, why: Unavailable) => (why.taken ? conflict : badRequest)(field, why.rule);

import { TypeCompiler } from "@sinclair/typebox/compiler";
import { type ApiToAgentMessage, ApiToAgentMessageSchema } from "@switchboard/shared";

/**
 * Every message from the API passes this compiled checker before anything reads it (the schema
 * limits are part of the agent's defences); a malformed one is logged and refused, never thrown
 * out of the channel handler.
 */
const checker = TypeCompiler.Compile(ApiToAgentMessageSchema);

/** Largest message accepted: a full snapshot of a big switch (keys, CRL, 100k hosts) stays below it. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export type CheckedMessage =
  | { readonly ok: true; readonly message: ApiToAgentMessage }
  | { readonly ok: false; readonly error: string };

export function checkApiMessage(raw: string | Uint8Array): CheckedMessage {
  const size = typeof raw === "string" ? Buffer.byteLength(raw) : raw.byteLength;
  if (size > MAX_MESSAGE_BYTES) return { ok: false, error: `message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}` };
  let data: unknown;
  try {
    data = JSON.parse(typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8"));
  } catch {
    return { ok: false, error: "not JSON" };
  }
  if (checker.Check(data)) return { ok: true, message: data };
  const first = checker.Errors(data).First();
  const type =
    typeof data === "object" && data !== null && "type" in data ? String((data as { type: unknown }).type) : "?";
  return { ok: false, error: `invalid ${type} message${first ? ` at ${first.path || "/"}: ${first.message}` : ""}` };
}

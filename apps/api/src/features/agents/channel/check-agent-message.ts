import { FormatRegistry } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { type AgentToApiMessage, AgentToApiMessageSchema } from "@switchboard/shared";

// TypeBox's compiled checker knows no string formats by itself (Fastify's Ajv has its own): an
// unknown format fails every value, so the protocol's timestamps need one.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has("date-time")) {
  FormatRegistry.Set("date-time", (value) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)));
}

/** Compiled once: every frame from an agent passes it before anything reads the frame. */
const checker = TypeCompiler.Compile(AgentToApiMessageSchema);

export type CheckedAgentMessage =
  | { readonly ok: true; readonly message: AgentToApiMessage }
  | { readonly ok: false; readonly error: string };

export function checkAgentMessage(raw: string): CheckedAgentMessage {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, error: "not JSON" };
  }
  if (checker.Check(data)) return { ok: true, message: data };
  const first = checker.Errors(data).First();
  const type =
    typeof data === "object" && data !== null && "type" in data
      ? String((data as { type: unknown }).type).slice(0, 40)
      : "?";
  return { ok: false, error: `invalid ${type} message${first ? ` at ${first.path || "/"}: ${first.message}` : ""}` };
}

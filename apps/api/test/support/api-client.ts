import type { TypedApp } from "../../src/http/typed-app.ts";
import { defaultTokens } from "./test-app.ts";

/** Thin helpers over app.inject so tests read like the HTTP calls they make. */
export function apiClient(app: TypedApp, token: string | null | undefined = defaultTokens.get(app)) {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const call = async (
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ) => {
    const response = await app.inject({
      method,
      url,
      ...(payload !== undefined ? { payload: payload as string } : {}),
      headers: { ...auth, ...headers },
    });
    const body = response.body ? safeJson(response.body) : undefined;
    return { status: response.statusCode, body, headers: response.headers, text: response.body };
  };
  return {
    get: (url: string) => call("GET", url),
    post: (url: string, payload: unknown, headers?: Record<string, string>) => call("POST", url, payload, headers),
    patch: (url: string, payload: unknown) => call("PATCH", url, payload),
    delete: (url: string) => call("DELETE", url),
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

function safeJson(text: string) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A network body with unique subnets, so tests in one file never overlap each other. */
export { networkBody } from "@switchboard/testkit/network-fixture";

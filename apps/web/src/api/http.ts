import type { ErrorResponse } from "@switchboard/shared";

/** A non-2xx answer; `body` is the API's one error shape when the server sent it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorResponse | undefined,
  ) {
    super(body?.message ?? `request failed with HTTP ${status}`);
    this.name = "ApiError";
  }
}

export type QueryParams = Record<string, string | number | boolean | undefined | null>;

// The session's CSRF token: every cookie-authenticated change must carry it (GET /api/session and
// sign-in return it). Module state rather than React state: the fetch layer needs it, not the UI.
let csrfToken: string | undefined;
let unauthorized: () => void = () => undefined;

export function setCsrfToken(token: string | undefined) {
  csrfToken = token;
}

/** Called when the API answers 401 to a signed-in request (session expired or signed out elsewhere). */
export function onUnauthorized(handler: () => void) {
  unauthorized = handler;
}

export function withQuery(path: string, query?: QueryParams): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

interface RequestOptions {
  query?: QueryParams;
  body?: unknown;
  /** Raw text body (e.g. CSV) with its content type. */
  text?: { content: string; type: string };
  /** 401 here is an answer, not a lost session (sign-in, the session probe). */
  expectUnauthorized?: boolean;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  let body: string | undefined;
  if (options.text) {
    headers["content-type"] = options.text.type;
    body = options.text.content;
  } else if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const response = await fetch(withQuery(path, options.query), {
    method,
    headers,
    body,
    credentials: "same-origin",
    signal: options.signal,
  });
  if (!response.ok) {
    const error = new ApiError(response.status, await errorBody(response));
    if (response.status === 401 && !options.expectUnauthorized) unauthorized();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("content-type") ?? "";
  return (type.includes("json") ? await response.json() : await response.text()) as T;
}

async function errorBody(response: Response): Promise<ErrorResponse | undefined> {
  try {
    const parsed = (await response.json()) as Partial<ErrorResponse>;
    return typeof parsed.message === "string" ? (parsed as ErrorResponse) : undefined;
  } catch {
    return undefined;
  }
}

export const api = {
  get: <T>(path: string, query?: QueryParams, signal?: AbortSignal) =>
    request<T>("GET", path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) }),
  post: <T>(path: string, body?: unknown, query?: QueryParams) =>
    request<T>("POST", path, { body: body ?? {}, ...(query ? { query } : {}) }),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, { body }),
  delete: <T = void>(path: string, query?: QueryParams) => request<T>("DELETE", path, query ? { query } : {}),
};

/** Every item of a cursor-paged list (limit 500 per page, the API's maximum). */
export async function fetchAllPages<T>(path: string, query: QueryParams = {}, signal?: AbortSignal): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: T[]; nextCursor: string | null } = await api.get(
      path,
      { ...query, limit: 500, cursor },
      signal,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** A short sentence for a notification or an inline alert. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

import { pinnedRequest } from "@switchboard/testkit/pinned-https";

/** A lab request that has no answer by then failed (a fetch can otherwise wait forever). */
const REQUEST_TIMEOUT_MS = 60_000;

/** The lab's REST client: HTTPS pinned to the API's certificate, with an API token, failing loudly with the API's own message. */
export class LabApi {
  constructor(
    readonly base: string,
    private readonly token: string,
    /** The API's self-signed certificate: the only one this client trusts. */
    private readonly ca: string | undefined,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await pinnedRequest(`${this.base}${path}`, {
      method,
      timeoutMs: REQUEST_TIMEOUT_MS,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(this.ca ? { ca: this.ca } : {}),
    });
    const { text } = response;
    if (response.status < 200 || response.status > 299)
      throw new Error(`${method} ${path}: ${response.status} ${text}`);
    const type = String(response.headers["content-type"] ?? "");
    return (type.includes("json") && text !== "" ? JSON.parse(text) : text) as T;
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
  post<T = unknown>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>("POST", path, body);
  }
  patch<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }
}

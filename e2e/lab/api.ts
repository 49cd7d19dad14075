/** The lab's REST client: plain fetch with an API token, failing loudly with the API's own message. */
export class LabApi {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    const type = response.headers.get("content-type") ?? "";
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

/** First start: the setup link's token makes the admin; the admin's session makes the lab's token. */
export async function firstAdmin(
  base: string,
  setupToken: string,
  username: string,
  password: string,
): Promise<string> {
  const json = { "content-type": "application/json" };
  const setup = await fetch(`${base}/api/setup`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ token: setupToken, username, password }),
  });
  if (!setup.ok) throw new Error(`setup: ${setup.status} ${await setup.text()}`);
  const cookie = (setup.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const { csrfToken } = (await setup.json()) as { csrfToken: string };
  const created = await fetch(`${base}/api/tokens`, {
    method: "POST",
    headers: { ...json, cookie, "x-csrf-token": csrfToken },
    body: JSON.stringify({ name: "lab", role: "admin" }),
  });
  if (!created.ok) throw new Error(`token: ${created.status} ${await created.text()}`);
  return ((await created.json()) as { token: string }).token;
}

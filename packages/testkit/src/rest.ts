/**
 * JSON over real HTTP, for benches and scripts that drive a server process: a non-2xx answer
 * throws with its status and body. `headers` defaults to the caller's shared auth headers,
 * which a bench fills in once it has a token.
 */
export function restCaller(auth: Record<string, string>) {
  return async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = auth) {
    const response = await fetch(url, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
    return response.json();
  };
}

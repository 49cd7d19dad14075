import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export interface PinnedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = unknown>(): T;
}

export interface PinnedRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The only certificate (authority) trusted for https: the API's own, read from its DATA_DIR. */
  ca?: string;
  /** Gives up after this long (default 60 s): a request never waits forever. */
  timeoutMs?: number;
}

/**
 * One HTTP(S) request that trusts exactly the given certificate, the way a pinned client does
 * (Node's fetch has no per-request trust). Host names are still checked against the certificate.
 */
export function pinnedRequest(url: string, options: PinnedRequest = {}): Promise<PinnedResponse> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? "GET",
        headers: options.headers ?? {},
        timeout: options.timeoutMs ?? 60_000,
        ...(options.ca ? { ca: [options.ca] } : {}),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 60_000} ms`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

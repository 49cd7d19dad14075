import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../src/app.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { testPki } from "../support/test-app.ts";
import { openTestDatabase } from "../support/test-database.ts";

/**
 * Attacks on connections (issue 13, resource limits): Fastify's default request timeout is none,
 * so a client that trickled a request held its connection forever, and nothing capped how many.
 * Limits are shortened here so the test does not wait two minutes.
 */
describe("HTTP connection limits", () => {
  let app: TypedApp;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    app = await buildApp({
      db: await openTestDatabase("pglite"),
      pki: testPki(),
      closeDatabaseOnClose: true,
      http: { requestTimeoutMs: 1000, connectionTimeoutMs: 5000, maxConnections: 3 },
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await app.close();
  });

  function open(): Promise<{ socket: Socket; closed: () => boolean; received: () => string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      sockets.push(socket);
      let closed = false;
      let received = "";
      socket.on("data", (chunk) => {
        received += chunk;
      });
      socket.on("close", () => {
        closed = true;
      });
      socket.once("error", () => {});
      socket.once("connect", () => resolve({ socket, closed: () => closed, received: () => received }));
      socket.once("error", reject);
    });
  }

  it("answers 408 and closes a connection whose request keeps trickling in (slowloris)", async () => {
    const client = await open();
    client.socket.write(
      "POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    );
    // One byte every 500 ms never lets the connection go idle: only the request timeout can
    // end it (Node checks it every 30 s). The loop is bounded by the wait below.
    const trickle = setInterval(() => {
      if (!client.closed()) client.socket.write(" ");
    }, 500);
    try {
      await vi.waitFor(() => expect(client.closed(), "the server closed the trickling connection").toBe(true), {
        timeout: 90_000,
        interval: 100,
      });
    } finally {
      clearInterval(trickle);
    }
    expect(client.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it("refuses connections beyond the cap, and serves again once they are gone", async () => {
    const held = [await open(), await open(), await open()];
    const extra = await open();
    await vi.waitFor(() => expect(extra.closed(), "the connection over the cap was dropped").toBe(true), {
      timeout: 30_000,
      interval: 50,
    });
    expect(held.every((client) => !client.closed())).toBe(true);
    for (const client of held) client.socket.destroy();
    await vi.waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(response.status).toBe(200);
      },
      { timeout: 30_000, interval: 100 },
    );
  });
});

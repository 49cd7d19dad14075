import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManagementClient } from "../../src/openvpn/management-client.ts";
import { parseStatus3 } from "../../src/openvpn/status-parser.ts";
import { createLab, LAB_NEEDS, type Lab } from "../support/lab.ts";

// Captured from OpenVPN 2.6.14 in a namespace through the management socket (CRLF kept),
// three clients, one CN with a comma and a space, one with a space.
const captured = readFileSync(join(import.meta.dirname, "../fixtures/status3-openvpn-2.6.14.txt"), "utf8");

describe("parseStatus3 on real OpenVPN 2.6 output", () => {
  const status = parseStatus3(captured);

  it("reads every client, common names with commas and spaces intact", () => {
    expect(status.clients.map((c) => c.commonName).sort()).toEqual(["alpha.one", "beta, with comma", "gamma host"]);
    expect(status.warnings).toEqual([]);
  });

  it("reads addresses, counters, times, ids and cipher of a client", () => {
    const beta = status.clients.find((c) => c.commonName === "beta, with comma");
    expect(beta).toEqual({
      commonName: "beta, with comma",
      realAddress: "127.0.0.1:43895",
      virtualAddress: "10.100.100.211",
      virtualIpv6Address: null,
      bytesReceived: 2302,
      bytesSent: 2243,
      connectedSince: 1795690604,
      username: null,
      clientId: 1,
      peerId: 1,
      cipher: "AES-256-GCM",
    });
  });

  it("reads the routing table, the title, the time and the global stats", () => {
    expect(status.routes).toContainEqual({
      virtualAddress: "10.100.100.212",
      cached: false,
      commonName: "gamma host",
      realAddress: "127.0.0.1:51021",
      lastRef: 1795690604,
    });
    expect(status.title).toMatch(/^OpenVPN 2\.6\.14 /);
    expect(status.time).toBe(1795690604);
    expect(status.globalStats.dco_enabled).toBe("0");
  });
});

describe("parseStatus3 edge cases", () => {
  const header =
    "HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tVirtual IPv6 Address\tBytes Received\tBytes Sent\tConnected Since\tConnected Since (time_t)\tUsername\tClient ID\tPeer ID\tData Channel Cipher";

  it("marks cached routes and keeps iroute CIDRs", () => {
    const status = parseStatus3(
      [
        "ROUTING_TABLE\t10.100.100.5C\tweb\t192.0.2.1:1194\t2026-01-01 00:00:00\t1767225600",
        "ROUTING_TABLE\t192.168.10.0/24\tweb\t192.0.2.1:1194\t2026-01-01 00:00:00\t1767225600",
        "END",
      ].join("\r\n"),
    );
    expect(status.routes.map((r) => [r.virtualAddress, r.cached])).toEqual([
      ["10.100.100.5", true],
      ["192.168.10.0/24", false],
    ]);
  });

  it("finds columns by header name, so a reordered or extended header still parses", () => {
    const reordered =
      "HEADER\tCLIENT_LIST\tClient ID\tCommon Name\tReal Address\tBytes Received\tBytes Sent\tConnected Since (time_t)\tNew Column";
    const status = parseStatus3([reordered, "CLIENT_LIST\t7\tx,y\t[2001:db8::1]:1194\t1\t2\t1767225600\tz", "END"]);
    expect(status.clients[0]).toMatchObject({
      clientId: 7,
      commonName: "x,y",
      realAddress: "[2001:db8::1]:1194",
      cipher: null,
    });
  });

  it("skips an unreadable row with a warning instead of failing the whole report", () => {
    const status = parseStatus3([
      header,
      "CLIENT_LIST\tok\t192.0.2.1:1\t10.0.0.2\t\t1\t2\tx\t1767225600\tUNDEF\t3\t3\tAES-256-GCM",
      "CLIENT_LIST\tbad\t192.0.2.1:1\t10.0.0.3\t\tNaN\t2\tx\t1767225600\tUNDEF\t4\t4\tAES-256-GCM",
      "SOMETHING_NEW\tx",
    ]);
    expect(status.clients.map((c) => c.commonName)).toEqual(["ok"]);
    expect(status.warnings).toHaveLength(2);
  });

  it("parses an empty server", () => {
    expect(parseStatus3("TITLE\tx\r\nTIME\ta\t1\r\nEND\r\n")).toMatchObject({ clients: [], routes: [], time: 1 });
  });
});

describeNeeding(LAB_NEEDS, "status 3 re-captured live from OpenVPN", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab(["live.one", "live, two"]);
    await lab.startServer();
    await Promise.all(lab.hosts.map((h) => lab.startClient(h.commonName)));
  });
  afterAll(async () => {
    await lab?.close();
  });

  it("parses what the running server reports now, shaped like the fixture", async () => {
    const client = new ManagementClient({ socketPath: lab.paths.managementSocket }).start();
    try {
      const status = await client.status3();
      expect(status.warnings).toEqual([]);
      expect(status.clients.map((c) => c.commonName).sort()).toEqual(["live, two", "live.one"]);
      for (const c of status.clients) {
        expect(c.realAddress).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(c.cipher).toBe("AES-256-GCM");
        expect(Number.isInteger(c.clientId)).toBe(true);
      }
      expect(Object.keys(status.globalStats)).toEqual(Object.keys(parseStatus3(captured).globalStats));
    } finally {
      client.close();
    }
  });
});

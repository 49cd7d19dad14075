import { type FakeManagement, startFakeManagement } from "@switchboard/testkit/agent/fake-management";

/**
 * What OpenVPN's management interface says on one switch of the storm, without OpenVPN: status 3
 * lists the clients the workload has connected there and not yet disconnected. The agent polls it
 * (every 2 s, as in production) and the API asks for it to confirm a roam's takeover; without it
 * every roam would be withdrawn after 10 s. Connects and disconnects reach the agent only through
 * its hook FIFO (the workload writes those lines), not as >CLIENT notifications.
 */
export class FakeOpenVpn {
  /** Common name -> client id and connect time (seconds), as status 3 prints them. */
  readonly clients = new Map<string, { clientId: number; connectedAt: number }>();
  private management: FakeManagement | undefined;

  async start(socketPath: string): Promise<void> {
    this.management = await startFakeManagement(
      (command) => (command === "status 3" ? this.status3() : "SUCCESS: done\r\n"),
      { path: socketPath },
    );
  }

  async close(): Promise<void> {
    await this.management?.close();
  }

  /** OpenVPN 2.6's layout without HEADER rows (the parser then assumes 2.6's column order). */
  private status3(): string {
    const now = Math.floor(Date.now() / 1000);
    const rows: string[] = [];
    for (const [commonName, { clientId, connectedAt }] of this.clients) {
      rows.push(
        [
          "CLIENT_LIST",
          commonName,
          `198.51.100.7:${40_000 + (clientId % 20_000)}`,
          "",
          "",
          "1000",
          "2000",
          new Date(connectedAt * 1000).toISOString(),
          String(connectedAt),
          "UNDEF",
          String(clientId),
          String(clientId),
          "AES-256-GCM",
        ].join("\t"),
      );
    }
    return ["TITLE\tfake", `TIME\t${new Date(now * 1000).toISOString()}\t${now}`, ...rows, "END", ""].join("\r\n");
  }
}

import { type FakeManagement, startFakeManagement } from "@switchboard/testkit/agent/fake-management";
import { status3 } from "@switchboard/testkit/agent/switch-sim";

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
      (command) => (command === "status 3" ? status3(this.clients) : "SUCCESS: done\r\n"),
      { path: socketPath },
    );
  }

  async close(): Promise<void> {
    await this.management?.close();
  }
}

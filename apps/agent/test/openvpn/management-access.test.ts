import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ManagementClient } from "../../src/openvpn/management-client.ts";
import { createLab, LAB_NEEDS, type Lab } from "../support/lab.ts";

/**
 * OpenVPN binds its management socket with umask 0: the file is world-writable, so any local
 * user could connect and drive the switch (kill sessions, stop it). The rendered configs accept
 * root's connections only (management-client-user root). The attack: a process running as
 * nobody (like OpenVPN itself after its drop, or any daemon sharing that account) connects and
 * sends `signal SIGTERM`.
 */

const WAIT_MS = 60_000;

/** Connects to the socket as nobody, sends one command, prints what came back until the server closes (or 5 s). */
function asNobody(socketPath: string, command: string): { status: number | null; output: string } {
  const script = `
    const socket = require("node:net").connect(process.argv[1]);
    let output = "";
    socket.on("data", (chunk) => (output += chunk));
    socket.on("connect", () => socket.write(process.argv[2] + "\\n"));
    const done = () => { process.stdout.write(output); process.exit(0); };
    socket.on("close", done);
    socket.on("error", (error) => { output += "error: " + error.code; done(); });
    setTimeout(done, 5000);
  `;
  const result = spawnSync(
    "setpriv",
    ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script, socketPath, command],
    { encoding: "utf8", timeout: WAIT_MS },
  );
  return { status: result.status, output: result.stdout ?? "" };
}

describeNeeding(LAB_NEEDS, "the management socket of a real OpenVPN 2.6 switch", () => {
  let lab: Lab;
  let management: ManagementClient;
  beforeAll(async () => {
    lab = await createLab([]);
    await lab.startServer();
  }, 120_000);
  afterAll(async () => {
    management?.close();
    await lab?.close();
  });

  it("is world-writable, as OpenVPN makes it, yet turns away anyone but root: nobody cannot stop the server", async () => {
    expect(statSync(lab.paths.managementSocket).mode & 0o777).toBe(0o777);
    // OpenVPN serves one management client at a time: the attacker's moment is while the agent is not connected.
    const tried = asNobody(lab.paths.managementSocket, "signal SIGTERM");

    expect(tried.status).toBe(0);
    // Connected (the file lets it), then closed without the banner or any answer.
    expect(tried.output).not.toContain(">INFO:OpenVPN Management Interface");
    expect(tried.output).not.toMatch(/SUCCESS/);
    expect(lab.serverLog()).toMatch(/MANAGEMENT: .*UID.*65534/);
    // Still running, and root (the agent) still drives it.
    management = new ManagementClient({ socketPath: lab.paths.managementSocket }).start();
    await management.whenReady(WAIT_MS);
    const status = await management.status3();
    expect(status.clients).toEqual([]);
    expect(lab.serverLog()).not.toContain("SIGTERM");
  });
});

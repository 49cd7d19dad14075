// Simulated agents for bench:api: each enrolls a switch through the real API, holds a real
// websocket channel and acks every desired state and delta at once, as a healthy agent does. They
// count what they receive, so the bench can say how much each write sent to the switches.

import { WebSocket } from "@switchboard/testkit/agent/raw-socket";
import { restCaller } from "@switchboard/testkit/rest";
import { waitFor } from "@switchboard/testkit/wait";

export interface AckingAgent {
  readonly switchId: string;
  readonly socket: WebSocket;
  /** The stream revision of the last frame received. */
  revision: number;
  snapshots: number;
  deltas: number;
  bytes: number;
}

export async function connectAckingAgents(
  base: string,
  auth: Record<string, string>,
  switchIds: readonly string[],
  deadlineMs: number,
): Promise<AckingAgent[]> {
  const call = restCaller(auth);
  const agents: AckingAgent[] = [];
  for (const switchId of switchIds) {
    const { token } = await call("POST", `${base}/api/switches/${switchId}/enrollment`, {});
    const { credential } = await call("POST", `${base}/api/agent/enroll`, { token }, {});
    const socket = new WebSocket(`${base.replace(/^http/, "ws")}/api/agent/channel`, {
      headers: { authorization: `Bearer ${credential}` },
      maxPayload: 256 * 1024 * 1024,
      perMessageDeflate: false,
    });
    const agent: AckingAgent = { switchId, socket, revision: 0, snapshots: 0, deltas: 0, bytes: 0 };
    socket.on("open", () =>
      socket.send(
        JSON.stringify({ type: "hello", protocolVersion: 1, agentVersion: "bench", switchId, revision: null }),
      ),
    );
    socket.on("message", (data) => {
      const text = String(data);
      const message = JSON.parse(text);
      if (message.type !== "desired-state" && message.type !== "desired-state-delta") return;
      agent.bytes += text.length;
      if (message.type === "desired-state") agent.snapshots++;
      else agent.deltas++;
      agent.revision = message.revision;
      socket.send(JSON.stringify({ type: "ack", revision: message.revision, ok: true, errors: [], resync: false }));
    });
    socket.on("error", (error) => process.stderr.write(`agent ${switchId}: ${error.message}\n`));
    agents.push(agent);
  }
  await waitFor("every simulated agent's first desired state", () => agents.every((a) => a.snapshots > 0), deadlineMs);
  return agents;
}

export function closeAgents(agents: readonly AckingAgent[]): void {
  for (const agent of agents) agent.socket.close();
}

/** Frames and bytes all agents have received so far (subtract two tallies for one phase). */
export function tally(agents: readonly AckingAgent[]): { deltas: number; snapshots: number; bytes: number } {
  return agents.reduce(
    (sum, a) => ({ deltas: sum.deltas + a.deltas, snapshots: sum.snapshots + a.snapshots, bytes: sum.bytes + a.bytes }),
    { deltas: 0, snapshots: 0, bytes: 0 },
  );
}

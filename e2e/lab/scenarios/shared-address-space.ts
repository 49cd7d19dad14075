import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { sleep } from "@switchboard/testkit/wait";
import { assertMaySpawn, inNetns } from "../system.ts";
import { assertReachable, type Scenario, tunAddressOf } from "./context.ts";

// A TCP echo in one host's namespace, and a client in another's: node, so no shell is involved.
const ECHO_SERVER =
  "require('net').createServer(s=>s.pipe(s)).listen(Number(process.argv[2]),process.argv[1],()=>console.log('listening'))";
const ECHO_CLIENT =
  "const s=require('net').connect(Number(process.argv[2]),process.argv[1],()=>s.end('switchboard'));let d='';s.on('data',c=>d+=c);s.on('close',()=>{console.log(d);process.exit(d==='switchboard'?0:1)});s.setTimeout(5000,()=>process.exit(2))";

/** Real, effective, saved and file-system uid of a process (/proc/<pid>/status). */
function uidsOf(pid: number): string {
  return (
    /^Uid:\s+(.*)$/m
      .exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
      ?.split(/\s+/)
      .join(" ") ?? "?"
  );
}
const NOBODY = "65534 65534 65534 65534";

export const sharedAddressSpace: Scenario = {
  name: "shared address space: host1 on A reaches host2 on B (ICMP, TCP) and both switches; their OpenVPN runs as nobody",
  async run({ lab, log }) {
    const [a, b] = [lab.switch("a"), lab.switch("b")];
    const [host1, host2] = [lab.host("host1"), lab.host("host2")];
    await lab.waitSessionOn(host1, a);
    await lab.waitSessionOn(host2, b);
    for (const host of [host1, host2]) {
      assert.equal(await tunAddressOf(host), host.dataAddress, `${host.name} has its static address`);
    }
    // Each switch's data server and backbone link, after its hosts connected (ccd read, hook run).
    for (const sw of [a, b]) {
      const pids = lab.openvpnPids(sw);
      assert.ok(pids.length >= 2, `switch ${sw.name} runs its data server and its link (pids ${pids.join(", ")})`);
      for (const pid of pids) assert.equal(uidsOf(pid), NOBODY, `switch ${sw.name}'s OpenVPN ${pid} runs as nobody`);
    }
    log(`OpenVPN on A and B: ${[a, b].flatMap((sw) => lab.openvpnPids(sw)).length} processes, all uid 65534`);
    const switches = await lab.api.get<
      { id: string; dataAddress: string }[] | { items: { id: string; dataAddress: string }[] }
    >(`/api/switches?networkId=${lab.state.networkId}`);
    const dataAddresses = (Array.isArray(switches) ? switches : switches.items).map((sw) => sw.dataAddress);
    await assertReachable(lab, [
      [host1, host2.dataAddress],
      [host2, host1.dataAddress],
      ...dataAddresses.flatMap((address) => [[host1, address] as const, [host2, address] as const]),
    ]);

    assertMaySpawn(`the echo server in ${host2.netns}`);
    const server = spawn(
      "ip",
      ["netns", "exec", host2.netns, process.execPath, "-e", ECHO_SERVER, host2.dataAddress, "7000"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout.once("data", () => resolve());
        server.once("exit", (code) => reject(new Error(`echo server exited (${code})`)));
      });
      const client = await inNetns(
        host1.netns,
        process.execPath,
        ["-e", ECHO_CLIENT, host2.dataAddress, "7000"],
        10_000,
      );
      assert.equal(client.code, 0, `TCP echo from host1 to host2: ${client.stdout}${client.stderr}`);
      log(`host1 ${host1.dataAddress} <-> host2 ${host2.dataAddress}: ICMP and TCP answered`);
    } finally {
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server.once("exit", resolve));
        server.kill("SIGTERM");
        await Promise.race([exited, sleep(5000)]);
      }
    }
  },
};

import type { CommandResult, CommandRunner } from "@switchboard/agent/src/system/command-runner.ts";

/** A main-table route as the fake kernel keeps it. */
export interface FakeKernelRoute {
  dst: string;
  gateway?: string;
  dev: string;
  protocol: string;
  metric?: number;
}

/**
 * Records every command and answers `ip -json route show` and `ip -force -batch -` (route add,
 * replace, del) like iproute2 does, over an in-memory main table. Devices not in `devices` fail like the kernel
 * ("Cannot find device"), so failure handling is testable without root.
 */
export class FakeIp implements CommandRunner {
  readonly calls: { file: string; args: string[]; input: string | undefined }[] = [];
  readonly table: FakeKernelRoute[] = [];
  /** The default route (`ip route show default`, and what `ip route get` falls back to); none unless set. */
  uplink: { gateway: string; dev: string } | undefined;
  /** Addresses of this machine: `ip route get` answers `local` for them. */
  readonly localAddresses = new Set<string>(["127.0.0.1"]);

  constructor(readonly devices: Set<string> = new Set(["sbb-aaaaa-2", "sbb-aaaaa-3", "sbs-aaaaa", "eth0"])) {}

  /** Calls that changed routes (the batch), as opposed to reads. */
  get routeCommands(): number {
    return this.calls.filter((c) => c.args.includes("-batch")).length;
  }

  async run(file: string, argv: readonly string[], input?: string): Promise<CommandResult> {
    const args = [...argv];
    this.calls.push({ file, args: [...argv], input });
    if (args[0] === "-n") args.splice(0, 2);
    if (args.join(" ") === "-4 -json route show table main") {
      const out = this.table.map((r) => ({
        dst: r.dst.endsWith("/32") ? r.dst.slice(0, -3) : r.dst,
        ...(r.gateway ? { gateway: r.gateway } : {}),
        dev: r.dev,
        protocol: r.protocol,
        ...(r.metric ? { metric: r.metric } : {}),
        flags: [],
      }));
      return { code: 0, stdout: JSON.stringify(out), stderr: "" };
    }
    if (args.join(" ") === "-force -batch -") return this.batch(input ?? "");
    if (args.join(" ") === "-4 -json route show default table main") {
      const out = this.uplink
        ? [{ dst: "default", gateway: this.uplink.gateway, dev: this.uplink.dev, flags: [] }]
        : [];
      return { code: 0, stdout: JSON.stringify(out), stderr: "" };
    }
    if (args.slice(0, 4).join(" ") === "-4 -json route get" && args.length === 5) return this.get(args[4] ?? "");
    return { code: 1, stdout: "", stderr: `fake ip: unsupported ${args.join(" ")}` };
  }

  /** Longest prefix match over the main table, then the default route, as the kernel's lookup does. */
  private get(address: string): CommandResult {
    if (this.localAddresses.has(address)) {
      return { code: 0, stdout: JSON.stringify([{ type: "local", dst: address, dev: "lo" }]), stderr: "" };
    }
    const value = toNumber(address);
    if (value === undefined)
      return { code: 1, stdout: "", stderr: `Error: any valid prefix is expected rather than "${address}".` };
    let best: FakeKernelRoute | undefined;
    let bestPrefix = -1;
    for (const route of this.table) {
      const [network = "", bits = "32"] = route.dst.split("/");
      const prefix = Number(bits);
      const base = toNumber(network);
      if (base === undefined || prefix <= bestPrefix || (route.metric ?? 0) !== 0) continue;
      const size = 2 ** (32 - prefix);
      if (value - (value % size) === base) {
        best = route;
        bestPrefix = prefix;
      }
    }
    const hop = best ?? (this.uplink ? { gateway: this.uplink.gateway, dev: this.uplink.dev } : undefined);
    if (!hop) return { code: 2, stdout: "", stderr: "RTNETLINK answers: Network is unreachable" };
    const out = [
      { dst: address, ...(hop.gateway ? { gateway: hop.gateway } : {}), dev: hop.dev, flags: [], cache: [] },
    ];
    return { code: 0, stdout: JSON.stringify(out), stderr: "" };
  }

  private batch(input: string): CommandResult {
    let stderr = "";
    input
      .split("\n")
      .filter((l) => l !== "")
      .forEach((line, i) => {
        const error = this.apply(line.split(" "));
        if (error) stderr += `${error}\nCommand failed -:${i + 1}\n`;
      });
    return { code: stderr === "" ? 0 : 1, stdout: "", stderr };
  }

  private apply(words: string[]): string | undefined {
    const [, verb, dst = ""] = words;
    const opt = (name: string) => {
      const i = words.indexOf(name);
      return i === -1 ? undefined : words[i + 1];
    };
    const metric = Number(opt("metric") ?? 0);
    const proto = opt("proto") ?? "boot";
    if (verb === "replace" || verb === "add") {
      const dev = opt("dev") ?? "";
      if (!this.devices.has(dev)) return `Cannot find device "${dev}"`;
      const i = this.table.findIndex((r) => r.dst === dst && (r.metric ?? 0) === metric);
      // `add` never overwrites, whoever owns the route there: the kernel refuses it.
      if (verb === "add" && i !== -1) return "RTNETLINK answers: File exists";
      const route: FakeKernelRoute = { dst, gateway: opt("via"), dev, protocol: proto, metric };
      if (i === -1) this.table.push(route);
      else this.table[i] = route;
      return undefined;
    }
    if (verb === "del") {
      const i = this.table.findIndex((r) => r.dst === dst && r.protocol === proto && (r.metric ?? 0) === metric);
      if (i === -1) return "RTNETLINK answers: No such process";
      this.table.splice(i, 1);
      return undefined;
    }
    return `unknown verb ${verb}`;
  }
}

function toNumber(address: string): number | undefined {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

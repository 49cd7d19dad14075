import type { CommandResult, CommandRunner } from "@switchboard/agent/src/system/command-runner.ts";

/** One main-table route as this fake kernel keeps it. */
interface MapRoute {
  readonly dst: string;
  readonly gateway: string | undefined;
  readonly dev: string;
  readonly protocol: string;
  readonly metric: number;
}

export interface MapKernelOptions {
  /** Called with every `ip -force -batch -` input, split into lines, and when it arrived (performance.now()). */
  readonly onBatch?: (lines: readonly string[], at: number) => void;
  /** The default route (`ip route show default`, and what `ip route get` falls back to). */
  readonly uplink?: { readonly gateway: string; readonly dev: string };
}

/**
 * A fake `ip` for a storm over tens of thousands of routes: the main table is a Map keyed by
 * destination and metric, so each batch line costs O(1) whatever the table holds (fake-ip.ts
 * scans an array, which is fine for tests and far too slow for 50 agents x 50,000 routes). It
 * answers what the agent's route programmer and route guard ask: `route show` (whole table or
 * default), `route get`, and `-force -batch -` with replace/add/del. Every device exists. What it
 * leaves out: the kernel's own cost per route, netlink, and device or gateway checks.
 */
export class MapKernel implements CommandRunner {
  private readonly table = new Map<string, MapRoute>();
  batches = 0;
  lines = 0;

  constructor(private readonly options: MapKernelOptions = {}) {}

  get size(): number {
    return this.table.size;
  }

  async run(_file: string, argv: readonly string[], input?: string): Promise<CommandResult> {
    const args = argv[0] === "-n" ? argv.slice(2) : argv;
    const command = args.join(" ");
    if (command === "-force -batch -") return this.batch(input ?? "");
    if (command === "-4 -json route show table main") return ok(JSON.stringify([...this.table.values()].map(toJson)));
    if (command === "-4 -json route show default table main") {
      const uplink = this.options.uplink;
      return ok(
        JSON.stringify(uplink ? [{ dst: "default", gateway: uplink.gateway, dev: uplink.dev, flags: [] }] : []),
      );
    }
    if (args.length === 5 && args.slice(0, 4).join(" ") === "-4 -json route get") return this.get(args[4] ?? "");
    return { code: 1, stdout: "", stderr: `map kernel: unsupported ip ${command}` };
  }

  private batch(input: string): CommandResult {
    const lines = input.split("\n").filter((line) => line !== "");
    this.batches += 1;
    this.lines += lines.length;
    let stderr = "";
    lines.forEach((line, i) => {
      const error = this.apply(line.split(" "));
      if (error) stderr += `${error}\nCommand failed -:${i + 1}\n`;
    });
    this.options.onBatch?.(lines, performance.now());
    return { code: stderr === "" ? 0 : 1, stdout: "", stderr };
  }

  private apply(words: readonly string[]): string | undefined {
    const [, verb, dst = ""] = words;
    const option = (name: string) => {
      const i = words.indexOf(name);
      return i === -1 ? undefined : words[i + 1];
    };
    const metric = Number(option("metric") ?? 0);
    const protocol = option("proto") ?? "boot";
    const key = `${dst} ${metric}`;
    if (verb === "replace" || verb === "add") {
      if (verb === "add" && this.table.has(key)) return "RTNETLINK answers: File exists";
      this.table.set(key, { dst, gateway: option("via"), dev: option("dev") ?? "", protocol, metric });
      return undefined;
    }
    if (verb === "del") {
      const route = this.table.get(key);
      if (route === undefined || route.protocol !== protocol) return "RTNETLINK answers: No such process";
      this.table.delete(key);
      return undefined;
    }
    return `unknown verb ${verb}`;
  }

  /** Exact /32 first, then the longest other prefix (few: the subnets), then the default route. */
  private get(address: string): CommandResult {
    if (address === "127.0.0.1") return ok(JSON.stringify([{ type: "local", dst: address, dev: "lo" }]));
    const value = toNumber(address);
    if (value === undefined) return { code: 1, stdout: "", stderr: `Error: invalid address "${address}".` };
    let best = this.table.get(`${address}/32 0`);
    if (best === undefined) {
      let bestPrefix = -1;
      for (const route of this.table.values()) {
        const [network = "", bits = "32"] = route.dst.split("/");
        const prefix = Number(bits);
        const base = toNumber(network);
        if (base === undefined || prefix <= bestPrefix || route.metric !== 0) continue;
        const size = 2 ** (32 - prefix);
        if (value - (value % size) === base) {
          best = route;
          bestPrefix = prefix;
        }
      }
    }
    const hop = best ?? this.options.uplink;
    if (hop === undefined) return { code: 2, stdout: "", stderr: "RTNETLINK answers: Network is unreachable" };
    return ok(
      JSON.stringify([{ dst: address, ...(hop.gateway ? { gateway: hop.gateway } : {}), dev: hop.dev, flags: [] }]),
    );
  }
}

function toJson(route: MapRoute) {
  return {
    dst: route.dst.endsWith("/32") ? route.dst.slice(0, -3) : route.dst,
    ...(route.gateway ? { gateway: route.gateway } : {}),
    dev: route.dev,
    protocol: route.protocol,
    ...(route.metric ? { metric: route.metric } : {}),
    flags: [],
  };
}

function ok(stdout: string): CommandResult {
  return { code: 0, stdout, stderr: "" };
}

function toNumber(address: string): number | undefined {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

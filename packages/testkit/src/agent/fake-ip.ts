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
 * Records every command and answers `ip -json route show` and `ip -force -batch -` like
 * iproute2 does, over an in-memory main table. Devices not in `devices` fail like the kernel
 * ("Cannot find device"), so failure handling is testable without root.
 */
export class FakeIp implements CommandRunner {
  readonly calls: { file: string; args: string[]; input: string | undefined }[] = [];
  readonly table: FakeKernelRoute[] = [];

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
    return { code: 1, stdout: "", stderr: `fake ip: unsupported ${args.join(" ")}` };
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
    if (verb === "replace") {
      const dev = opt("dev") ?? "";
      if (!this.devices.has(dev)) return `Cannot find device "${dev}"`;
      const i = this.table.findIndex((r) => r.dst === dst && (r.metric ?? 0) === metric);
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

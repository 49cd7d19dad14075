import type { Route } from "@switchboard/shared";
import type { CommandResult, CommandRunner } from "../system/command-runner.ts";
import { checkBlastRadius } from "./blast-radius.ts";
import { IpBatchSession } from "./ip-batch-session.ts";
import {
  type KernelRoute,
  parseDefaultGateways,
  parseIpRouteJson,
  parseRouteGetJson,
  type RouteLookup,
} from "./kernel-routes.ts";
import {
  diffRouteView,
  parseBatchErrors,
  type RouteFailure,
  renderBatch,
  type Slot,
  slotOf,
  type ViewChanges,
  viewOf,
} from "./route-diff.ts";
import { ROUTE_PROTOCOL } from "./route-protocol.ts";

export interface RouteProgrammerOptions {
  readonly runner: CommandRunner;
  /** Run `ip -n <netns>`: the bench and the tests program a throwaway namespace. */
  readonly netns?: string | undefined;
  readonly ipPath?: string;
  /** Blast-radius guard (blast-radius.ts). */
  readonly maxWithdrawShare?: number;
  readonly alwaysAllowWithdrawals?: number;
  /**
   * Send batches to one long-running `ip -force -batch -` (ip-batch-session.ts) instead of
   * starting ip for each: starting it costs more than a one-route batch. Reads still go through
   * `runner`. Off by default, so a fake runner sees every command; the agent turns it on.
   */
  readonly keepIpRunning?: boolean;
}

export interface ApplyOptions {
  /** The routes come from a full snapshot whose count was checked: the guard lets it withdraw anything. */
  readonly verifiedFullSnapshot?: boolean;
  /**
   * Read the kernel's table and diff against it instead of the in-memory view: the agent asks on
   * its slow periodic reconcile and after a full snapshot, so a route someone deleted or re-pointed
   * by hand (or a foreign route that appeared) is seen within one period.
   */
  readonly readKernel?: boolean;
}

export interface RouteApplyResult {
  /** Our routes in the kernel afterwards (as far as the agent knows). */
  readonly applied: readonly Route[];
  readonly failed: readonly RouteFailure[];
  readonly added: number;
  readonly removed: number;
  /** `ip` invocations that changed routes: 0 for a no-op, 1 otherwise. */
  readonly routeCommands: number;
  /** `ip` invocations that only read the table. */
  readonly reads: number;
}

function toRoute(kernel: KernelRoute): Route | undefined {
  if (kernel.via === undefined || kernel.dev === undefined) return undefined;
  return { destination: kernel.destination, via: kernel.via, dev: kernel.dev };
}

/** The in-memory view the programmer keeps between applies (route-diff.ts's RouteView, mutable). */
interface MemoryView {
  readonly slots: Map<string, Slot>;
  strays: KernelRoute[];
  readonly foreign: ReadonlySet<string>;
}

function fromRead(current: readonly KernelRoute[]): MemoryView {
  const view = viewOf(current);
  return { slots: new Map(view.slots), strays: [...view.strays], foreign: view.foreign };
}

/**
 * Declarative route programming, tailscale-router style: `apply(desired)` diffs the desired
 * routes against what it last applied, kept in memory (route-diff.ts, pure), and makes the kernel
 * match with ONE `ip -force -batch -`, adds before deletes; an update that changes nothing runs
 * no command at all. The kernel's table is read only on the first apply, when the caller asks
 * (`readKernel`: the agent's slow reconcile and full snapshots, which also put back a route
 * someone deleted by hand), and after a batch that failed, to learn what really happened. Routes
 * of other protocols are read only to avoid overwriting them; those seen at the last read stay
 * conflicts until a read shows them gone.
 */
export class RouteProgrammer {
  private readonly ipPath: string;
  /** Undefined until the first read, and again when a command could not run at all. */
  private memory: MemoryView | undefined;
  /** `applied` of the last apply while the table has not changed since. */
  private applied: readonly Route[] | undefined;
  /** Applies run one at a time: each one's diff starts from the memory the previous one left. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly session: IpBatchSession | undefined;

  constructor(private readonly options: RouteProgrammerOptions) {
    this.ipPath = options.ipPath ?? "ip";
    this.session =
      options.keepIpRunning === true ? new IpBatchSession({ ipPath: this.ipPath, netns: options.netns }) : undefined;
  }

  /** Ends the long-running ip, if any (a later apply would start another). */
  close(): void {
    this.session?.stop();
  }

  private args(...rest: string[]): string[] {
    return this.options.netns === undefined ? rest : ["-n", this.options.netns, ...rest];
  }

  /** The main table's IPv4 routes, ours marked `owned`. */
  async read(): Promise<KernelRoute[]> {
    const result = await this.options.runner.run(
      this.ipPath,
      this.args("-4", "-json", "route", "show", "table", "main"),
    );
    if (result.code !== 0) throw new Error(`ip route show failed (${result.code}): ${result.stderr.trim()}`);
    return parseIpRouteJson(result.stdout);
  }

  /** The kernel's own route lookup for one IPv4 address; undefined when it has no route (or ip fails). */
  async lookup(address: string): Promise<RouteLookup | undefined> {
    const result = await this.options.runner.run(this.ipPath, this.args("-4", "-json", "route", "get", address));
    return result.code === 0 ? parseRouteGetJson(result.stdout) : undefined;
  }

  /** The gateways of the main table's default routes. */
  async defaultGateways(): Promise<string[]> {
    const result = await this.options.runner.run(
      this.ipPath,
      this.args("-4", "-json", "route", "show", "default", "table", "main"),
    );
    return result.code === 0 ? parseDefaultGateways(result.stdout) : [];
  }

  apply(desired: readonly Route[], options: ApplyOptions = {}): Promise<RouteApplyResult> {
    const run = this.tail.then(() => this.applyNow(desired, options));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async readIntoMemory(): Promise<MemoryView> {
    this.memory = undefined;
    this.applied = undefined;
    const memory = fromRead(await this.read());
    this.memory = memory;
    return memory;
  }

  private appliedNow(memory: MemoryView): readonly Route[] {
    this.applied ??= [...memory.slots.values()].flatMap((slot) => toRoute(slot.route) ?? []);
    return this.applied;
  }

  private async applyNow(desired: readonly Route[], options: ApplyOptions): Promise<RouteApplyResult> {
    let reads = 0;
    let memory = this.memory;
    if (memory === undefined || options.readKernel === true) {
      // Starting ip for the batch overlaps the read instead of following it.
      this.session?.prepare();
      memory = await this.readIntoMemory();
      reads += 1;
    }
    const changes = diffRouteView(desired, memory);
    const guard = checkBlastRadius({
      current: changes.ownedCount,
      withdraw: changes.remove.length,
      verifiedFullSnapshot: options.verifiedFullSnapshot === true,
      ...(this.options.maxWithdrawShare === undefined ? {} : { maxShare: this.options.maxWithdrawShare }),
      ...(this.options.alwaysAllowWithdrawals === undefined
        ? {}
        : { alwaysAllow: this.options.alwaysAllowWithdrawals }),
    });
    if (!guard.allowed) {
      // Refuse the whole update: a suspicious route set is not partly trusted either.
      return {
        applied: this.appliedNow(memory),
        failed: [{ destination: "0.0.0.0/0", reason: "guard", message: guard.reason }, ...changes.failures],
        added: 0,
        removed: 0,
        routeCommands: 0,
        reads,
      };
    }
    const lines = renderBatch(changes, ROUTE_PROTOCOL);
    if (lines.length === 0) {
      return {
        applied: this.appliedNow(memory),
        failed: changes.failures,
        added: 0,
        removed: 0,
        routeCommands: 0,
        reads,
      };
    }
    let result: CommandResult;
    try {
      result =
        this.session !== undefined
          ? await this.session.run(lines)
          : await this.options.runner.run(this.ipPath, this.args("-force", "-batch", "-"), `${lines.join("\n")}\n`);
    } catch (error) {
      // ip could not run (or was killed): nothing is known of the table any more.
      this.memory = undefined;
      this.applied = undefined;
      throw error;
    }
    const failed = [...changes.failures];
    if (result.code === 0) {
      this.remember(memory, changes);
      return {
        applied: this.appliedNow(memory),
        failed,
        added: changes.upsert.length,
        removed: changes.remove.length,
        routeCommands: 1,
        reads,
      };
    }
    // Some lines failed (a link device missing, a gateway unreachable): name them, then read back
    // what the kernel really holds rather than guess.
    const errors = parseBatchErrors(result.stderr);
    let failedUpserts = 0;
    for (const [line, message] of errors) {
      const upsert = changes.upsert[line - 1];
      const remove = changes.remove[line - 1 - changes.upsert.length];
      if (upsert !== undefined) failedUpserts += 1;
      const destination = upsert?.destination ?? remove?.destination;
      if (destination !== undefined) failed.push({ destination, reason: "kernel", message });
    }
    if (errors.size === 0) failed.push({ destination: "0.0.0.0/0", reason: "kernel", message: result.stderr.trim() });
    reads += 1;
    const after = await this.readIntoMemory();
    return {
      applied: this.appliedNow(after),
      failed,
      added: changes.upsert.length - failedUpserts,
      removed: changes.remove.length - (errors.size - failedUpserts),
      routeCommands: 1,
      reads,
    };
  }

  /** After a batch that fully succeeded: the memory becomes what it asked for, in O(changes). */
  private remember(memory: MemoryView, changes: ViewChanges): void {
    for (const route of changes.remove) {
      if (memory.slots.get(route.destination)?.route === route) memory.slots.delete(route.destination);
    }
    memory.strays = [];
    for (const route of changes.upsert) {
      // The desired route passed invalidRoute in this diff: the slot is checked.
      const programmed: KernelRoute = {
        destination: route.destination,
        via: route.via,
        dev: route.dev,
        metric: 0,
        type: "unicast",
        owned: true,
      };
      memory.slots.set(route.destination, slotOf(programmed, true));
    }
    this.applied = changes.inPlace;
  }
}

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import {
  type Ack,
  type AgentCommand,
  type AgentError,
  type AgentToApiMessage,
  applyDelta,
  type CommandResult,
  type DesiredState,
  DesiredStateSchema,
  type Hello,
  PROTOCOL_VERSION,
  type RouteReport,
  type SessionEvent,
  switchPaths,
} from "@switchboard/shared";
import { FileWriter } from "./files/file-writer.ts";
import { HookListener } from "./hook/hook-listener.ts";
import { renderHookScript } from "./hook/hook-script.ts";
import { LinkMonitor } from "./openvpn/link-monitor.ts";
import { ManagementClient } from "./openvpn/management-client.ts";
import { checkApiMessage } from "./protocol/check-message.ts";
import { applyActions } from "./reconcile/apply.ts";
import { checkStateConfigs } from "./reconcile/config-guard.ts";
import { isVerifiedSnapshot } from "./reconcile/desired-state.ts";
import { CCD_DIR, HOOK_FIFO } from "./reconcile/layout.ts";
import { withLocalSessions } from "./reconcile/local-routes.ts";
import { observe } from "./reconcile/observe.ts";
import { plan } from "./reconcile/plan.ts";
import { RouteGuard } from "./reconcile/route-guard.ts";
import type { RouteApplyResult } from "./routes/route-programmer.ts";
import { RouteProgrammer } from "./routes/route-programmer.ts";
import { SessionTracker } from "./sessions/session-tracker.ts";
import { letOpenVpnReach } from "./supervise/openvpn-access.ts";
import { OpenVpnProcesses } from "./supervise/openvpn-processes.ts";
import type { Spawner } from "./supervise/process-supervisor.ts";
import { type CommandRunner, spawnRunner } from "./system/command-runner.ts";

/**
 * The agent's composition root: wires the management client, the hook listener, the session
 * tracker, the reconcile plan/apply pair and the route programmer, and speaks the protocol
 * through two plain functions (`handleMessage` in, `send` out). The websocket channel (next
 * step) only has to call `hello()` on connect, pass every frame to `handleMessage`, and give
 * `send` a way out; it owns authentication, heartbeats and reconnects.
 */

export interface AgentLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface AgentOptions {
  readonly baseDir: string;
  readonly switchId: string;
  readonly agentVersion: string;
  readonly send: (message: AgentToApiMessage) => void;
  readonly runner?: CommandRunner;
  /** Program routes in this network namespace (tests, lab). */
  readonly netns?: string;
  readonly managementPassword?: string;
  /** status 3 reconcile period; default 2 s. */
  readonly statusIntervalMs?: number;
  /** Full reconcile period (files, hand-deleted routes); default 30 s. */
  readonly reconcileIntervalMs?: number;
  readonly maxWithdrawShare?: number;
  /**
   * The host of the API URL: a desired state with a route covering it (or the gateway toward
   * it) is refused, so no update can cut the agent off from the API (reconcile/route-guard.ts).
   */
  readonly apiHost?: string;
  readonly log?: AgentLogger;
  /**
   * managed: the agent starts and supervises the data server and the backbone links itself.
   * external (default): something else (systemd) runs OpenVPN; the agent writes files and signals.
   */
  readonly openvpn?: { readonly mode: "managed"; readonly binary?: string; readonly spawn?: Spawner };
}

const CACHE = "state/desired.json";
const ROUTE_RETRY_MS = 500;
const checkCached = TypeCompiler.Compile(DesiredStateSchema);

export class Agent {
  private readonly files: FileWriter;
  private readonly runner: CommandRunner;
  private readonly routes: RouteProgrammer;
  private readonly routeGuard: RouteGuard;
  private readonly tracker = new SessionTracker();
  private readonly management: ManagementClient;
  private readonly hook: HookListener;
  private readonly log: AgentLogger;
  private state: DesiredState | undefined;
  private verified = false;
  private lastRoutes: RouteApplyResult | undefined;
  private lastReport: RouteReport | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private readonly processes: OpenVpnProcesses | undefined;
  private routeRetry: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly linkMonitor: LinkMonitor;

  constructor(private readonly options: AgentOptions) {
    this.files = new FileWriter(options.baseDir);
    this.runner = options.runner ?? spawnRunner();
    this.log = options.log ?? { info: () => undefined, warn: () => undefined };
    this.routes = new RouteProgrammer({
      runner: this.runner,
      netns: options.netns,
      ...(options.maxWithdrawShare === undefined ? {} : { maxWithdrawShare: options.maxWithdrawShare }),
    });
    this.routeGuard = new RouteGuard({
      lookup: (address) => this.routes.lookup(address),
      defaultGateways: () => this.routes.defaultGateways(),
      apiHost: options.apiHost,
      warn: (message) => this.log.warn(message),
    });
    this.management = new ManagementClient({
      socketPath: switchPaths(options.baseDir).managementSocket,
      password: options.managementPassword,
    });
    this.processes =
      options.openvpn?.mode === "managed"
        ? new OpenVpnProcesses({
            baseDir: options.baseDir,
            ...(options.openvpn.binary ? { binary: options.openvpn.binary } : {}),
            ...(options.openvpn.spawn ? { spawn: options.openvpn.spawn } : {}),
            log: this.log,
          })
        : undefined;
    this.linkMonitor = new LinkMonitor({
      baseDir: options.baseDir,
      onChange: (links) => options.send({ type: "link-state", links }),
    });
    this.hook = new HookListener(
      join(options.baseDir, HOOK_FIFO),
      this.runner,
      (event) => this.sessionEvents(this.tracker.onHook(event)),
      (message) => this.log.warn(message),
    );
  }

  get revision(): number | null {
    return this.state?.revision ?? null;
  }

  hello(): Hello {
    return {
      type: "hello",
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: this.options.agentVersion,
      switchId: this.options.switchId,
      revision: this.revision,
    };
  }

  /**
   * What the API needs after a (re)connect, right after hello: every session here now (it
   * retires the ones it missed ending), the last route report and the backbone links' states.
   */
  resume(): AgentToApiMessage[] {
    const snapshot: AgentToApiMessage = {
      type: "session-snapshot",
      takenAt: new Date().toISOString(),
      sessions: this.tracker.sessions(),
    };
    const links = this.linkMonitor.states();
    return [
      snapshot,
      ...(this.lastReport ? [this.lastReport] : []),
      ...(links.length > 0 ? [{ type: "link-state" as const, links }] : []),
    ];
  }

  /** Restores the cached desired state and applies it, whether or not the API is reachable. */
  async start(): Promise<void> {
    await this.hook.start();
    await letOpenVpnReach(this.options.baseDir, this.log);
    this.management.on("client", (n) => this.sessionEvents(this.tracker.onClientNotification(n)));
    this.management.on("warning", (message) => this.log.warn(`management: ${message}`));
    this.management.start();
    const cached = await this.readCache();
    if (cached !== undefined && (await this.safeToRestore(cached))) {
      this.state = cached;
      this.log.info(`restored desired state revision ${cached.revision} from cache`);
      await this.reconcile();
    }
    this.timers.push(setInterval(() => void this.pollStatus(), this.options.statusIntervalMs ?? 2000));
    this.timers.push(setInterval(() => void this.reconcile(), this.options.reconcileIntervalMs ?? 30_000));
  }

  /** Stops the agent; files and routes stay. In managed mode OpenVPN stops too (SIGTERM: clients move to their next switch). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.stopped = true;
    clearTimeout(this.routeRetry);
    this.management.close();
    this.linkMonitor.close();
    this.hook.close();
    await this.processes?.stop();
  }

  /** One frame from the API. Never throws: a malformed message is logged and refused. */
  async handleMessage(raw: string | Uint8Array): Promise<void> {
    const checked = checkApiMessage(raw);
    if (!checked.ok) {
      this.log.warn(`refused message: ${checked.error}`);
      this.options.send({ type: "error", code: "malformed", message: checked.error });
      return;
    }
    const message = checked.message;
    switch (message.type) {
      case "welcome":
      case "error":
        if (message.type === "error") this.log.warn(`API: ${message.code}: ${message.message}`);
        return;
      case "desired-state": {
        if (message.switchId !== this.options.switchId) {
          this.options.send(
            this.ack(false, [{ scope: "protocol", message: "desired state for another switch" }], true),
          );
          return;
        }
        if (this.refuse(message)) return;
        if (await this.refuseUnsafeRoutes(message, true)) return;
        this.state = message;
        this.verified = isVerifiedSnapshot(message);
        await this.saveCache();
        this.options.send(this.ack(...(await this.reconcileWithErrors())));
        return;
      }
      case "desired-state-delta": {
        const result = applyDelta(this.state, message);
        if (!result.ok) {
          const ok = result.reason === "stale";
          this.options.send(
            this.ack(ok, ok ? [] : [{ scope: "protocol", message: `delta refused: ${result.reason}` }], !ok),
          );
          return;
        }
        if (this.refuse(result.state)) return;
        if (await this.refuseUnsafeRoutes(result.state, false)) return;
        this.state = result.state;
        this.verified = false;
        await this.saveCache();
        this.options.send(this.ack(...(await this.reconcileWithErrors())));
        return;
      }
      case "command":
        this.options.send(await this.command(message));
        return;
    }
  }

  /**
   * A state whose configs are not what packages/shared renders is refused whole: acked with the
   * reasons, and neither kept, cached, written nor run. The switch stays at its last good state.
   */
  private refuse(candidate: DesiredState): boolean {
    const errors = checkStateConfigs(candidate, this.options.baseDir);
    if (errors.length === 0) return false;
    this.log.warn(`refused desired state revision ${candidate.revision}: ${errors[0]?.target}: ${errors[0]?.message}`);
    this.options.send(this.ack(false, errors, false));
    return true;
  }

  /**
   * A state with a route that covers the API host, a backbone peer's endpoint or the uplink
   * gateway is refused whole: acked with the routes and why (no resync: the same state would
   * come back), neither kept, cached nor applied. The API's fix arrives as a newer state.
   * `fresh`: look the addresses up again (full snapshots); deltas reuse the last lookup.
   */
  private async refuseUnsafeRoutes(candidate: DesiredState, fresh: boolean): Promise<boolean> {
    const errors = await this.routeGuard.check(candidate, { fresh });
    if (errors.length === 0) return false;
    this.log.warn(`refused desired state revision ${candidate.revision}: ${errors[0]?.target}: ${errors[0]?.message}`);
    this.options.send(this.ack(false, errors, false));
    return true;
  }

  /** The cache was written by an agent that did not check routes yet, or the uplink changed since. */
  private async safeToRestore(cached: DesiredState): Promise<boolean> {
    const errors = await this.routeGuard.check(cached, { fresh: true });
    if (errors.length === 0) return true;
    this.log.warn(`cached desired state refused (${errors[0]?.target}: ${errors[0]?.message}); waiting for the API`);
    return false;
  }

  private ack(ok: boolean, errors: readonly AgentError[], resync: boolean): Ack {
    return { type: "ack", revision: this.revision, ok, errors: [...errors].slice(0, 1000), resync };
  }

  private async reconcileWithErrors(): Promise<[boolean, AgentError[], boolean]> {
    const errors = await this.reconcile();
    return [errors.length === 0, errors, errors.some((e) => e.scope === "guard")];
  }

  /** Plan and apply everything; serialised so two reconciles never interleave their actions. */
  reconcile(): Promise<AgentError[]> {
    const run = async (): Promise<AgentError[]> => {
      const state = this.state;
      if (state === undefined) return [];
      const observed = await observe(this.files, state, this.tracker.observed());
      const hookScript = renderHookScript(join(this.options.baseDir, HOOK_FIFO));
      const actions = plan({ state, verifiedFullSnapshot: this.verified, hookScript }, observed);
      const outcome = await applyActions(actions, this.deps());
      if (outcome.routes !== undefined) this.reportRoutes(state, outcome.routes);
      // Managed mode: the files are in place now, so the processes that read them can run.
      // OpenVPN refuses to start without its client-config-dir, which has no file yet when
      // the network has no host.
      if (this.processes) await this.files.ensureDir(CCD_DIR);
      this.processes?.sync(state);
      this.linkMonitor.sync(state.links.map((link) => link.peerOffset));
      return [...outcome.errors];
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next.catch((error: unknown) => [{ scope: "protocol", message: String(error) }]);
  }

  /**
   * A route via a backbone link fails while the link's tun device does not exist yet: in
   * managed mode the links start only after the files are written, e.g. right after a restart
   * from the cache. Try again every half second rather than at the next 30 s reconcile.
   */
  private retryFailedRoutes(result: RouteApplyResult): void {
    if (result.failed.length === 0 || this.routeRetry !== undefined || this.stopped) return;
    this.routeRetry = setTimeout(() => {
      this.routeRetry = undefined;
      this.reconcileRoutes();
    }, ROUTE_RETRY_MS);
  }

  /** The local rule at once: only routes, no file reads, when a session starts or ends here. */
  private reconcileRoutes(): void {
    const run = async () => {
      const state = this.state;
      if (state === undefined) return;
      const connected = this.tracker.observed().map((s) => s.commonName);
      const routes = withLocalSessions(state.routes, state.hosts, connected, state.serverDevice);
      const outcome = await applyActions(
        [{ kind: "apply-routes", routes, verifiedFullSnapshot: this.verified }],
        this.deps(),
      );
      if (outcome.routes !== undefined) this.reportRoutes(state, outcome.routes);
    };
    this.queue = this.queue.then(run, run).catch((error: unknown) => this.log.warn(`routes: ${String(error)}`));
  }

  private deps() {
    return {
      files: this.files,
      routes: this.routes,
      // Managed: the agent restarts the server itself, so a reload does not wait for the
      // management interface (right after a start it may not be connected yet).
      server:
        this.management.ready || this.processes?.running().server
          ? {
              reload: () => this.reloadServer(),
              clientKill: (clientId: number, nextRemote?: boolean) => this.management.clientKill(clientId, nextRemote),
            }
          : undefined,
      link: (peerOffset: number) => this.processes?.link(peerOffset),
    };
  }

  /**
   * Managed: restart the data server (it reads its keys as root only at start). External: SIGHUP
   * through the management interface; OpenVPN, running as nobody by then, exits because it cannot
   * re-read its keys, and its service manager starts it again (Restart=on-failure).
   */
  private async reloadServer(): Promise<void> {
    // Not running (waiting out a backoff): it reads the new files when it starts.
    if (this.processes) await this.processes.reloadServer();
    else await this.management.signal("SIGHUP");
  }

  private reportRoutes(state: DesiredState, result: RouteApplyResult): void {
    this.retryFailedRoutes(result);
    const changed = this.lastRoutes === undefined || result.routeCommands > 0 || result.failed.length > 0;
    this.lastRoutes = result;
    if (!changed) return;
    this.lastReport = {
      type: "route-report",
      revision: state.revision,
      desired: withLocalSessions(
        state.routes,
        state.hosts,
        this.tracker.observed().map((s) => s.commonName),
        state.serverDevice,
      ),
      applied: [...result.applied],
      failed: [...result.failed],
    };
    this.options.send(this.lastReport);
  }

  private sessionEvents(events: SessionEvent[]): void {
    if (events.length === 0) return;
    this.options.send({ type: "sessions", events });
    this.reconcileRoutes();
  }

  private async pollStatus(): Promise<void> {
    if (!this.management.ready) return;
    const requestedAt = Date.now();
    try {
      const status = await this.management.status3();
      this.sessionEvents(this.tracker.onStatus(status, requestedAt));
    } catch (error) {
      this.log.warn(`status 3: ${String(error)}`);
    }
  }

  private async command(message: AgentCommand): Promise<CommandResult> {
    const result = (ok: boolean, text?: string, data?: Record<string, unknown>): CommandResult => ({
      type: "command-result",
      id: message.id,
      ok,
      ...(text === undefined ? {} : { message: text }),
      ...(data === undefined ? {} : { data }),
    });
    try {
      switch (message.command.kind) {
        case "kill-session": {
          const clientId = this.tracker.clientIdOf(message.command.commonName);
          if (clientId === null) return result(false, "no session with a known client id for this host");
          await this.management.clientKill(clientId, message.command.nextRemote === true);
          return result(true);
        }
        case "reload":
          await this.reloadServer();
          return result(true);
        case "session-snapshot": {
          // The API checks a switch's claim to a host against OpenVPN's own list, not the hook's word.
          if (!this.management.ready) return result(false, "the management interface is not connected: no status 3");
          await this.pollStatus();
          this.options.send({
            type: "session-snapshot",
            takenAt: new Date().toISOString(),
            sessions: this.tracker.sessions(),
          });
          return result(true);
        }
        case "diagnostics":
          return result(true, undefined, {
            protocolVersion: PROTOCOL_VERSION,
            agentVersion: this.options.agentVersion,
            revision: this.revision,
            managementReady: this.management.ready,
            sessions: this.tracker.sessions().length,
            routesApplied: this.lastRoutes?.applied.length ?? null,
            routesFailed: this.lastRoutes?.failed.length ?? null,
          });
      }
    } catch (error) {
      return result(false, error instanceof Error ? error.message : String(error));
    }
  }

  private async readCache(): Promise<DesiredState | undefined> {
    try {
      const data: unknown = JSON.parse(await readFile(join(this.options.baseDir, CACHE), "utf8"));
      if (checkCached.Check(data) && data.switchId === this.options.switchId) {
        // Only checked states are cached; one that fails now was cached by an older agent.
        const errors = checkStateConfigs(data, this.options.baseDir);
        if (errors.length === 0) return data;
        this.log.warn(
          `cached desired state refused (${errors[0]?.target}: ${errors[0]?.message}); waiting for the API`,
        );
        return undefined;
      }
      this.log.warn("cached desired state is unreadable; waiting for the API");
    } catch {
      // No cache yet.
    }
    return undefined;
  }

  private async saveCache(): Promise<void> {
    if (this.state === undefined) return;
    // Holds keys: secret mode.
    await this.files.write(CACHE, JSON.stringify(this.state), "secret");
  }
}

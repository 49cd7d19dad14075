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
  type DesiredHost,
  type DesiredState,
  type DesiredStateDelta,
  DesiredStateDeltaSchema,
  DesiredStateSchema,
  type Hello,
  mergeDeltas,
  PROTOCOL_VERSION,
  type Route,
  type RouteReport,
  type SessionEvent,
  switchPaths,
} from "@switchboard/shared";
import { FileWriter } from "./files/file-writer.ts";
import { journalPathOf, parseJournal, StateCache } from "./files/state-cache.ts";
import { HookListener } from "./hook/hook-listener.ts";
import { renderHookScript } from "./hook/hook-script.ts";
import { LinkMonitor } from "./openvpn/link-monitor.ts";
import { ManagementClient } from "./openvpn/management-client.ts";
import { checkApiMessage } from "./protocol/check-message.ts";
import { applyActions } from "./reconcile/apply.ts";
import { checkStateConfigs } from "./reconcile/config-guard.ts";
import { deltaTouchesRoutes, planDelta } from "./reconcile/delta-plan.ts";
import { isVerifiedSnapshot } from "./reconcile/desired-state.ts";
import { IndexedApply } from "./reconcile/indexed-apply.ts";
import { CCD_DIR, ccdPath, HOOK_FIFO, SERVER_FILES } from "./reconcile/layout.ts";
import { withLocalSessions } from "./reconcile/local-routes.ts";
import { observe } from "./reconcile/observe.ts";
import { type PlanObserved, plan } from "./reconcile/plan.ts";
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
  /** More API hosts (other instances the channel fails over to), kept reachable the same way. */
  readonly otherApiHosts?: readonly string[];
  readonly log?: AgentLogger;
  /**
   * managed: the agent starts and supervises the data server and the backbone links itself.
   * external (default): something else (systemd) runs OpenVPN; the agent writes files and signals.
   */
  readonly openvpn?: { readonly mode: "managed"; readonly binary?: string; readonly spawn?: Spawner };
  /** Batches to one long-running `ip -batch` (RouteProgrammer); default: on unless `runner` is given. */
  readonly keepIpRunning?: boolean;
  /** How long the cache save after a delta waits for more deltas (files/state-cache.ts); default 1 s. */
  readonly cacheSaveDelayMs?: number;
}

/** Deltas that arrived while the agent was busy: applied together, merged, when their turn comes. */
interface DeltaBatch {
  readonly deltas: DesiredStateDelta[];
  readonly done: Promise<void>;
}

const CACHE = "state/desired.json";
const ROUTE_RETRY_MS = 500;
const REPORT_INTERVAL_MS = 1000;
const checkCached = TypeCompiler.Compile(DesiredStateSchema);
const checkJournalDelta = TypeCompiler.Compile(DesiredStateDeltaSchema);

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
  /** `state.hosts` by common name, patched with each delta (the local rule and the delta plan look hosts up). */
  private hostsByName = new Map<string, DesiredHost>();
  /** Positions of hosts and routes in `state`'s arrays: a delta patches them in place of a rebuild. */
  private readonly indexed = new IndexedApply();
  private reportTimer: NodeJS.Timeout | undefined;
  private lastReportSentAt = Number.NEGATIVE_INFINITY;
  private readonly cache: StateCache;
  private openBatch: DeltaBatch | undefined;
  private verified = false;
  private lastRoutes: RouteApplyResult | undefined;
  private lastReport: RouteReport | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private readonly processes: OpenVpnProcesses | undefined;
  private routeRetry: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly linkMonitor: LinkMonitor;
  /** The periodic reconcile in flight (one at a time). */
  private reconciling: Promise<AgentError[]> | undefined;
  /**
   * While the periodic reconcile observes outside the queue: the paths changes wrote or removed
   * meanwhile (read again before its plan), or "all" after a snapshot or a server/link change.
   */
  private touchedWhileObserving: Set<string> | "all" | undefined;
  /** A routes-only reconcile waits in the queue: later session events join it instead of queueing another. */
  private routesQueued = false;

  constructor(private readonly options: AgentOptions) {
    this.files = new FileWriter(options.baseDir);
    this.runner = options.runner ?? spawnRunner();
    this.log = options.log ?? { info: () => undefined, warn: () => undefined };
    this.cache = new StateCache(this.files, CACHE, options.cacheSaveDelayMs ?? 1000, (m) => this.log.warn(m));
    this.routes = new RouteProgrammer({
      runner: this.runner,
      netns: options.netns,
      // One long-running ip for the batches (a start of ip costs more than a one-route batch);
      // not with a runner passed in (tests, benches with a fake kernel), which must see every command.
      keepIpRunning: options.keepIpRunning ?? options.runner === undefined,
      ...(options.maxWithdrawShare === undefined ? {} : { maxWithdrawShare: options.maxWithdrawShare }),
    });
    this.routeGuard = new RouteGuard({
      lookup: (address) => this.routes.lookup(address),
      defaultGateways: () => this.routes.defaultGateways(),
      apiHosts: [...(options.apiHost ? [options.apiHost] : []), ...(options.otherApiHosts ?? [])],
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
      this.hold(cached);
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
    clearTimeout(this.reportTimer);
    this.management.close();
    this.linkMonitor.close();
    this.hook.close();
    this.routes.close();
    await this.processes?.stop();
    // The last deltas' state, not left to the debounce timer.
    await this.cache.flush(() => this.state);
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
        // Deltas arriving from now on follow this snapshot, not the batch queued before it.
        this.openBatch = undefined;
        await this.serialize(
          () => this.takeSnapshot(message),
          (error) => this.log.warn(`desired state: ${String(error)}`),
        );
        return;
      }
      case "desired-state-delta":
        return this.queueDelta(message);
      case "command":
        this.options.send(await this.command(message));
        return;
    }
  }

  /** A full snapshot: checked whole, cached at once, then the full reconcile (kernel read included). */
  private async takeSnapshot(state: DesiredState): Promise<void> {
    if (this.refuse(state)) return;
    if (await this.refuseUnsafeRoutes(state, true)) return;
    this.hold(state);
    this.verified = isVerifiedSnapshot(state);
    await this.cache.save(state);
    this.options.send(this.ack(...withErrors(await this.fullReconcile())));
  }

  private hold(state: DesiredState): void {
    this.touched("all");
    this.state = state;
    this.hostsByName = new Map(state.hosts.map((host) => [host.commonName, host]));
    this.indexed.reset(state);
  }

  /**
   * A delta joins the batch waiting for its turn, or opens one behind whatever the agent is
   * doing; resolves once its batch is applied and acked.
   */
  private queueDelta(delta: DesiredStateDelta): Promise<void> {
    if (this.openBatch === undefined) {
      const deltas: DesiredStateDelta[] = [];
      const done = this.serialize(
        async () => {
          if (this.openBatch?.deltas === deltas) this.openBatch = undefined;
          await this.applyDeltas(deltas);
        },
        (error) => this.log.warn(`delta: ${String(error)}`),
      );
      this.openBatch = { deltas, done };
    }
    this.openBatch.deltas.push(delta);
    return this.openBatch.done;
  }

  /**
   * A chain of deltas from the held revision is merged into one (one file pass, one route
   * batch, one ack naming the last revision: the API maps an ack to every revision up to it).
   * A delta that does not start at the held revision is answered alone (stale, or a gap).
   */
  private async applyDeltas(deltas: readonly DesiredStateDelta[]): Promise<void> {
    let next = 0;
    while (next < deltas.length) {
      let merged = deltas[next++] as DesiredStateDelta;
      if (merged.baseRevision === this.state?.revision) {
        while (next < deltas.length) {
          const joined = mergeDeltas(merged, deltas[next] as DesiredStateDelta);
          if (joined === undefined) break;
          merged = joined;
          next += 1;
        }
      }
      await this.applyOneDelta(merged);
    }
  }

  /** The same checks as a snapshot's (the route guard only over what the delta brings), then the delta plan. */
  private async applyOneDelta(delta: DesiredStateDelta): Promise<void> {
    const before = this.state;
    const { result, commit } = this.indexed.apply(before, delta);
    if (!result.ok || before === undefined) {
      const ok = !result.ok && result.reason === "stale";
      const reason = result.ok ? "no-base" : result.reason;
      this.options.send(this.ack(ok, ok ? [] : [{ scope: "protocol", message: `delta refused: ${reason}` }], !ok));
      return;
    }
    const after = result.state;
    // The allow-list reads only the server device, server files and link configs: the held state
    // passed it, so a delta that brings none of them needs no new check (bench:fanout at 500
    // events/s: ~40 ms of every second per agent went to re-checking ten unchanged configs).
    if (changesConfigs(delta) && this.refuse(after)) return;
    const unsafe = await this.routeGuard.checkChange(after, {
      routes: delta.routes?.upsert ?? [],
      hosts: delta.hosts?.upsert ?? [],
    });
    if (this.refuseWith(after, unsafe)) return;

    const named = [...(delta.hosts?.upsert.map((host) => host.commonName) ?? []), ...(delta.hosts?.remove ?? [])];
    const hostBefore = new Map(named.map((name) => [name, this.hostsByName.get(name)]));
    this.touched(changesConfigs(delta) ? "all" : named.map(ccdPath));
    this.state = after;
    commit();
    for (const name of delta.hosts?.remove ?? []) this.hostsByName.delete(name);
    for (const host of delta.hosts?.upsert ?? []) this.hostsByName.set(host.commonName, host);
    this.verified = false;
    this.cache.record(delta, () => this.state);

    const sessions = new Map(this.tracker.observed().map((session) => [session.commonName, session]));
    const routes = deltaTouchesRoutes(delta, sessions)
      ? withLocalSessions(after.routes, this.hostsByName, sessions.keys(), after.serverDevice)
      : undefined;
    // Read only when a server file changes: whether a server runs that must reload.
    const serverInstalled =
      delta.server === undefined || (await this.files.observe(SERVER_FILES.serverConfig)) !== undefined;
    const actions = planDelta({
      before,
      after,
      delta,
      hostBefore: (name) => hostBefore.get(name),
      sessions,
      routes,
      serverInstalled,
    });
    const outcome = await applyActions(actions, this.deps());
    if (delta.links !== undefined || delta.server !== undefined) await this.syncProcesses(after);
    this.options.send(this.ack(...withErrors([...outcome.errors])));
    if (outcome.routes !== undefined && routes !== undefined) this.reportRoutes(after, outcome.routes, routes);
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
    return this.refuseWith(candidate, await this.routeGuard.check(candidate, { fresh }));
  }

  private refuseWith(candidate: DesiredState, errors: readonly AgentError[]): boolean {
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

  /**
   * Plan and apply everything (observe reads and hashes every managed file; the route programmer
   * reads the kernel): after a restore and on the slow timer. The observe (seconds at 50,000
   * hosts) runs beside the queue so deltas and session events are not stuck behind it; the plan
   * and its actions run in the queue, after the files changed meanwhile are read again.
   */
  reconcile(): Promise<AgentError[]> {
    if (this.reconciling === undefined) {
      this.reconciling = this.reconcileBesideQueue()
        .catch((error: unknown): AgentError[] => [{ scope: "protocol", message: String(error) }])
        .finally(() => {
          this.reconciling = undefined;
        });
    }
    return this.reconciling;
  }

  private async reconcileBesideQueue(): Promise<AgentError[]> {
    const state = this.state;
    if (state === undefined) return [];
    const touched = new Set<string>();
    this.touchedWhileObserving = touched;
    let observed: PlanObserved;
    try {
      observed = await observe(this.files, state, []);
    } catch (error) {
      this.touchedWhileObserving = undefined;
      throw error;
    }
    return this.serialize(
      async () => {
        const changed = this.touchedWhileObserving;
        this.touchedWhileObserving = undefined;
        const current = this.state;
        if (current === undefined) return [];
        let fresh = observed;
        if (changed === "all") fresh = await observe(this.files, current, []);
        else if (current !== state) fresh = await this.observeAgain(observed, [...touched]);
        return this.applyReconcile(current, { ...fresh, sessions: this.tracker.observed() });
      },
      (error) => [{ scope: "protocol", message: String(error) }],
    );
  }

  /** Notes paths a change writes or removes while the periodic reconcile observes. */
  private touched(paths: readonly string[] | "all"): void {
    const set = this.touchedWhileObserving;
    if (set === undefined || set === "all") return;
    if (paths === "all") this.touchedWhileObserving = "all";
    else for (const path of paths) set.add(path);
  }

  /** `observed` with `paths` read again (ccd files a delta wrote or removed after the observe). */
  private async observeAgain(observed: PlanObserved, paths: readonly string[]): Promise<PlanObserved> {
    if (paths.length === 0) return observed;
    const again = await this.files.observeMany(paths);
    const files = new Map(observed.files);
    const ccdFiles = new Set(observed.ccdFiles);
    for (const path of paths) {
      const file = again.get(path);
      if (file === undefined) files.delete(path);
      else files.set(path, file);
      if (!path.startsWith(`${CCD_DIR}/`)) continue;
      const name = path.slice(CCD_DIR.length + 1);
      if (file === undefined) ccdFiles.delete(name);
      else ccdFiles.add(name);
    }
    return { ...observed, files, ccdFiles: [...ccdFiles] };
  }

  /** Runs `job` after everything queued before it; a failure is turned into `onError`'s value. */
  private serialize<T>(job: () => Promise<T>, onError: (error: unknown) => T): Promise<T> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => undefined);
    return next.catch(onError);
  }

  /** In the queue: observe and apply at once (after a snapshot, which must ack what it applied). */
  private async fullReconcile(): Promise<AgentError[]> {
    const state = this.state;
    if (state === undefined) return [];
    return this.applyReconcile(state, await observe(this.files, state, this.tracker.observed()));
  }

  private async applyReconcile(state: DesiredState, observed: PlanObserved): Promise<AgentError[]> {
    const hookScript = renderHookScript(join(this.options.baseDir, HOOK_FIFO));
    const actions = plan(
      { state, verifiedFullSnapshot: this.verified, hookScript, hostsByName: this.hostsByName },
      observed,
    );
    const outcome = await applyActions(actions, this.deps());
    const desired = actions.find((action) => action.kind === "apply-routes");
    if (outcome.routes !== undefined && desired !== undefined) this.reportRoutes(state, outcome.routes, desired.routes);
    await this.syncProcesses(state);
    return [...outcome.errors];
  }

  private async syncProcesses(state: DesiredState): Promise<void> {
    // Managed mode: the files are in place now, so the processes that read them can run.
    // OpenVPN refuses to start without its client-config-dir, which has no file yet when
    // the network has no host.
    if (this.processes) await this.files.ensureDir(CCD_DIR);
    this.processes?.sync(state);
    this.linkMonitor.sync(state.links.map((link) => link.peerOffset));
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

  /**
   * The local rule at once: only routes, no file reads, when a session starts or ends here. One
   * waits in the queue at most: it reads the sessions when its turn comes, so a burst of events
   * costs one route diff, not one each (each is a diff of the whole route set).
   */
  private reconcileRoutes(): void {
    if (this.routesQueued) return;
    this.routesQueued = true;
    const run = async () => {
      this.routesQueued = false;
      const state = this.state;
      if (state === undefined) return;
      const connected = this.tracker.observed().map((s) => s.commonName);
      const routes = withLocalSessions(state.routes, this.hostsByName, connected, state.serverDevice);
      const outcome = await applyActions(
        [{ kind: "apply-routes", routes, verifiedFullSnapshot: this.verified }],
        this.deps(),
      );
      if (outcome.routes !== undefined) this.reportRoutes(state, outcome.routes, routes);
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

  private reportRoutes(state: DesiredState, result: RouteApplyResult, desired: readonly Route[]): void {
    this.retryFailedRoutes(result);
    const changed = this.lastRoutes === undefined || result.routeCommands > 0 || result.failed.length > 0;
    this.lastRoutes = result;
    if (!changed) return;
    this.lastReport = {
      type: "route-report",
      revision: state.revision,
      desired: [...desired],
      applied: [...result.applied],
      failed: [...result.failed],
    };
    this.sendReport();
  }

  /**
   * At most one route report a second: it carries every desired and applied route (at 50,000
   * hosts several MB of JSON, ~40 ms to serialise), and the API keeps only the last one. The
   * first goes at once; those within the second after it become one, sent when it ends.
   */
  private sendReport(): void {
    if (this.reportTimer !== undefined) return;
    const wait = this.lastReportSentAt + REPORT_INTERVAL_MS - performance.now();
    const send = () => {
      this.reportTimer = undefined;
      this.lastReportSentAt = performance.now();
      if (this.lastReport !== undefined && !this.stopped) this.options.send(this.lastReport);
    };
    if (wait <= 0) send();
    else this.reportTimer = setTimeout(send, wait);
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
      const snapshot: unknown = JSON.parse(await readFile(join(this.options.baseDir, CACHE), "utf8"));
      const journal = await readFile(join(this.options.baseDir, journalPathOf(CACHE)), "utf8").catch(() => "");
      const data = checkCached.Check(snapshot) ? withJournal(snapshot, parseJournal(journal)) : snapshot;
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
}

/**
 * The snapshot with the journal's deltas that chain from it: merged first (each is small), then
 * applied once, since applyDelta costs the whole state. Deltas the snapshot already holds (a
 * crash between a snapshot and the journal's removal) are skipped; the first that is malformed
 * or leaves a gap ends the replay.
 */
function withJournal(snapshot: DesiredState, entries: readonly unknown[]): DesiredState {
  let merged: DesiredStateDelta | undefined;
  for (const entry of entries) {
    if (!checkJournalDelta.Check(entry)) break;
    if (merged === undefined && entry.revision <= snapshot.revision) continue;
    const next: DesiredStateDelta | undefined = merged === undefined ? entry : mergeDeltas(merged, entry);
    if (next === undefined) break;
    merged = next;
  }
  if (merged === undefined) return snapshot;
  const result = applyDelta(snapshot, merged);
  return result.ok ? result.state : snapshot;
}

/** Whether the delta brings anything checkStateConfigs reads. */
function changesConfigs(delta: DesiredStateDelta): boolean {
  return delta.serverDevice !== undefined || delta.server !== undefined || delta.links !== undefined;
}

function withErrors(errors: AgentError[]): [boolean, AgentError[], boolean] {
  return [errors.length === 0, errors, errors.some((e) => e.scope === "guard")];
}

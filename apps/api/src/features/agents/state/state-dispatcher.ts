import {
  type Ack,
  type DesiredHost,
  type DesiredState,
  type DesiredStateDelta,
  diffDesired,
  type Hello,
  isEmptyDelta,
  type Route,
  type RouteSession,
} from "@switchboard/shared";
import type { FastifyBaseLogger } from "fastify";
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import type { CertificateAuthority } from "../../pki/certificate-authority.ts";
import type { AgentStatusStore } from "../agent-status.ts";
import type { AgentLink } from "../channel/agent-hub.ts";
import { desiredState } from "./desired-state.ts";
import type { NetworkChange } from "./network-changes.ts";
import { loadNetworkView, type NetworkView } from "./network-view.ts";
import { type RouteChange, RouteState } from "./route-state.ts";

export const CLOSE_SWITCH_GONE = 4404;

export interface DispatcherDeps {
  prisma: PrismaClient;
  authority: CertificateAuthority;
  status: AgentStatusStore;
  log: FastifyBaseLogger;
  /** The sessions the route computation starts from (sessions/session-store.ts). */
  sessions: {
    prepare(networkId: string): Promise<unknown>;
    routeSessions(networkId: string): RouteSession[];
    /** The switch of the host's live session now, if any. */
    liveSwitch(networkId: string, commonName: string): string | undefined;
  };
  /** Changes are batched for this long before anything is sent. */
  tickMs: number;
  /** Network revisions are also polled this often, for changes made elsewhere (CRL refresher, other instances). */
  pollMs: number;
  /** A loaded view found a switch disabled (or it was when first loaded), or enabled again. */
  onSwitchEnabled?(networkId: string, switchId: string, enabled: boolean): void;
}

/** One agent's stream of desired states: its parts as last sent, and which network revision each stream revision carried. */
interface Stream {
  readonly link: AgentLink;
  revision: number;
  /**
   * The last state sent, without routes: those live in the network's RouteState. After host
   * patches its `hosts` are behind (`hostsBehind`): the agent then holds the view's hosts, which
   * are written back here only when something needs the list (a reload's diff).
   */
  sent: DesiredState | undefined;
  hostsBehind: boolean;
  carried: [streamRevision: number, networkRevision: number][];
  /** The network revision this agent last acknowledged on this stream. */
  applied: number | null;
}

interface AppliedWaiter {
  readonly networkId: string;
  readonly revision: number;
  readonly resolve: (everywhere: boolean) => void;
}

interface NetworkSync {
  view: NetworkView | undefined;
  readonly routes: RouteState;
  /** Recompute every route at the next tick (the view changed, or changes came without names). */
  routesDirty: boolean;
  /** Hosts whose sessions changed since the last tick. */
  readonly moved: Set<string>;
  readonly streams: Map<string, Stream>;
  /** Committed changes not yet patched in, in any order. */
  pending: NetworkChange[];
  /**
   * The view revision at which it was last found behind and given one more tick for the changes
   * to arrive. Under steady writes the view is often behind by a change still on its way, yet
   * moving: each revision it reaches gets its own grace, and only a view stuck behind reloads.
   */
  graceAt: number | undefined;
}

/** Host files and route changes collected from the changes patched in one tick. */
interface Patched {
  readonly hosts: Map<string, DesiredHost | null>;
  readonly routes: Map<string, Map<string, Route | null>>;
}

const NO_ROUTES: Route[] = [];

/**
 * Decides who gets what (DESIGN.md, "Shape of the code" 5). Writes bump Network.revision and,
 * once committed, tell what they changed (network-changes.ts): a host change made on exactly the
 * view's revision is patched into the cached view, and every switch gets a delta with just that
 * host's file and routes. Anything else (switches, settings, PKI, an import, a revision gap, a
 * write by another instance) makes the tick reload the view and diff every switch's state. A
 * poke after each successful API change (and a slow poll) compares revisions as the backstop. Session changes
 * name the hosts that moved; the tick re-places just those (route-state.ts) and sends route
 * deltas only to the switches whose routes changed. All work runs on one queue, so deltas always
 * follow the snapshot they build on.
 *
 * Stream revisions: each agent's stream counts up from the revision it restored (its hello), so
 * a delta always names the base the agent holds; acks map back to the network revision they
 * carried, which is what status reports. Single instance: another API instance's session changes
 * do not reach this one's route tables (its config changes do, through the poll).
 */
export class StateDispatcher {
  private readonly networks = new Map<string, NetworkSync>();
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Whether the next tick must read network revisions (a change may have been made); session ticks need not. */
  private checkRevisions = true;
  private readonly poll: NodeJS.Timeout;
  private waiters: AppliedWaiter[] = [];

  constructor(private readonly deps: DispatcherDeps) {
    this.poll = setInterval(() => this.poke(), deps.pollMs);
    this.poll.unref();
  }

  close(): void {
    clearInterval(this.poll);
    clearTimeout(this.timer);
  }

  /** Something may have changed: look at the revisions within a tick. */
  poke(): void {
    this.checkRevisions = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.enqueue(() => this.tick());
    }, this.deps.tickMs);
  }

  /** Sessions changed: the named hosts moved (no names: recompute everything). */
  routesChanged(networkId: string, commonNames?: Iterable<string>): void {
    const sync = this.networks.get(networkId);
    if (!sync) return;
    if (commonNames === undefined) sync.routesDirty = true;
    else for (const name of commonNames) sync.moved.add(name);
    this.schedule();
  }

  /** A write committed: patch it in at the next tick (networks without agents here need nothing). */
  changed(change: NetworkChange): void {
    const sync = this.networks.get(change.networkId);
    if (!sync) return;
    sync.pending.push(change);
    this.schedule();
  }

  /** A new channel: a full snapshot, after a tick so a change made meanwhile reaches every switch. */
  connected(link: AgentLink, hello: Hello): Promise<void> {
    const { networkId, switchId } = link.identity;
    let sync = this.networks.get(networkId);
    if (!sync) {
      sync = {
        view: undefined,
        routes: new RouteState(),
        routesDirty: true,
        moved: new Set(),
        streams: new Map(),
        pending: [],
        graceAt: undefined,
      };
      this.networks.set(networkId, sync);
    }
    const stream: Stream = {
      link,
      revision: hello.revision ?? 0,
      sent: undefined,
      hostsBehind: false,
      carried: [],
      applied: null,
    };
    sync.streams.set(switchId, stream);
    const target = sync;
    return this.enqueue(async () => {
      if (target.streams.get(switchId) !== stream) return;
      this.checkRevisions = true;
      await this.tick();
      if (!stream.sent) this.sendSnapshot(target, stream);
    });
  }

  disconnected(link: AgentLink): void {
    const sync = this.networks.get(link.identity.networkId);
    if (sync?.streams.get(link.identity.switchId)?.link !== link) return;
    sync.streams.delete(link.identity.switchId);
    if (sync.streams.size === 0) this.networks.delete(link.identity.networkId);
    this.wakeWaiters();
  }

  /**
   * Resolves true once every switch of the network connected here has acknowledged `revision`
   * (or a later one), false after `timeoutMs`. A change that must be in place before an action
   * (a new CRL before a revoked host is kicked, so it cannot reconnect on the old list) waits here.
   */
  appliedEverywhere(networkId: string, revision: number, timeoutMs: number): Promise<boolean> {
    if (this.isApplied(networkId, revision)) return Promise.resolve(true);
    this.poke();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.deps.log.warn(
          { networkId, revision, lagging: this.lagging(networkId, revision) },
          "switches did not acknowledge a revision in time",
        );
        resolve(false);
      }, timeoutMs);
      const waiter: AppliedWaiter = {
        networkId,
        revision,
        resolve: (everywhere) => {
          clearTimeout(timer);
          resolve(everywhere);
        },
      };
      this.waiters.push(waiter);
    });
  }

  private lagging(networkId: string, revision: number): { switchId: string; applied: number | null }[] {
    const streams = [...(this.networks.get(networkId)?.streams.values() ?? [])];
    return streams
      .filter((stream) => stream.applied === null || stream.applied < revision)
      .map((stream) => ({ switchId: stream.link.identity.switchId, applied: stream.applied }));
  }

  private isApplied(networkId: string, revision: number): boolean {
    const sync = this.networks.get(networkId);
    if (!sync) return true;
    return [...sync.streams.values()].every((stream) => stream.applied !== null && stream.applied >= revision);
  }

  private wakeWaiters(): void {
    if (this.waiters.length === 0) return;
    const done = this.waiters.filter((w) => this.isApplied(w.networkId, w.revision));
    this.waiters = this.waiters.filter((w) => !done.includes(w));
    for (const waiter of done) waiter.resolve(true);
  }

  /** An ack: record the network revision it reached; a resync request gets a full snapshot. */
  ack(link: AgentLink, ack: Ack): Promise<void> {
    const sync = this.networks.get(link.identity.networkId);
    const stream = sync?.streams.get(link.identity.switchId);
    if (!sync || stream?.link !== link) return Promise.resolve();
    let networkRevision: number | null = null;
    if (ack.revision !== null) {
      const reached = stream.carried.filter(([revision]) => revision <= (ack.revision as number)).at(-1);
      networkRevision = reached?.[1] ?? null;
      stream.carried = stream.carried.filter(([revision]) => revision >= (ack.revision as number));
    }
    const errors = ack.errors.map((e) => `${e.scope}${e.target ? ` ${e.target}` : ""}: ${e.message}`);
    const lastError = errors.length > 0 ? errors.slice(0, 20).join("; ").slice(0, 4000) : null;
    this.deps.status.applied(link.identity.switchId, networkRevision, lastError);
    if (networkRevision !== null) {
      stream.applied = Math.max(stream.applied ?? networkRevision, networkRevision);
      this.wakeWaiters();
    }
    if (!ack.resync) return Promise.resolve();
    return this.enqueue(async () => this.sendSnapshot(sync, stream));
  }

  /** The routes a switch should have now: from the live table, or computed on demand when no agent of its network is here. */
  async desiredRoutes(networkId: string, switchId: string): Promise<Route[]> {
    const sync = this.networks.get(networkId);
    if (sync?.view) return sync.routes.routesOf(switchId);
    const view = await loadNetworkView(this.deps.prisma, this.deps.authority, networkId);
    if (!view) return [];
    await this.deps.sessions.prepare(networkId);
    const state = new RouteState();
    state.recompute(view, this.deps.sessions.routeSessions(networkId));
    return state.routesOf(switchId);
  }

  /** Whether the switch is enabled, as of the view the agents were last sent (undefined: not loaded). */
  switchEnabled(networkId: string, switchId: string): boolean | undefined {
    return this.networks.get(networkId)?.view?.switches.find((sw) => sw.id === switchId)?.enabled;
  }

  /** The host id of a common name, as of the view the agents were last sent. */
  hostIdOf(networkId: string, commonName: string): string | undefined {
    return this.networks.get(networkId)?.view?.hostIds.get(commonName);
  }

  /** Resolves when everything queued so far has run (tests, shutdown). */
  settled(): Promise<void> {
    return this.queue;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue
      .then(work)
      .catch((error) => this.deps.log.error({ err: error }, "agent state dispatch failed"));
    this.queue = next;
    return next;
  }

  private async tick(): Promise<void> {
    const ids = [...this.networks.keys()];
    if (ids.length === 0) return;
    const check = this.checkRevisions || ids.some((id) => this.networks.get(id)?.view === undefined);
    this.checkRevisions = false;
    // Changes first: they are sent before any reload, so a reload diffs against what agents hold.
    for (const id of ids) {
      const sync = this.networks.get(id);
      if (sync?.view && sync.pending.length > 0) this.patch(sync, sync.view);
    }
    const rows = check
      ? await this.deps.prisma.network.findMany({ where: { id: { in: ids } }, select: { id: true, revision: true } })
      : [];
    const revisions = new Map(rows.map((row) => [row.id, row.revision]));
    for (const id of ids) {
      const sync = this.networks.get(id);
      if (!sync) continue;
      const viewChanged = this.mustReload(sync, check ? revisions.get(id) : sync.view?.revision);
      if (viewChanged) await this.reload(sync, id);
      const view = sync.view;
      if (!view) continue;
      let changes: Map<string, RouteChange> | undefined;
      if (!viewChanged && !sync.routesDirty && sync.moved.size > 0) {
        changes = sync.routes.replace(view, sync.moved, (cn) => this.deps.sessions.liveSwitch(id, cn));
      }
      if (changes === undefined && (viewChanged || sync.routesDirty || sync.moved.size > 0)) {
        changes = this.recompute(sync, view);
      }
      sync.moved.clear();
      sync.routesDirty = false;
      for (const stream of sync.streams.values()) {
        const change = changes?.get(stream.link.identity.switchId);
        if (viewChanged || change) this.sendUpdate(sync, stream, change);
      }
    }
  }

  /**
   * Whether the view must be reloaded: not loaded, the database is at another revision, or a
   * change waits that cannot be patched. A view behind for want of a change still on its way
   * (its transaction committed, its emit not yet run) gets one more tick before the reload.
   */
  private mustReload(sync: NetworkSync, revision: number | undefined): boolean {
    const view = sync.view;
    if (view === undefined || revision === undefined) return true;
    const next = sync.pending[0];
    if (next?.kind === "reload" && next.baseRevision <= view.revision) return true;
    const behind = revision > view.revision || next !== undefined;
    if (!behind && revision === view.revision) {
      sync.graceAt = undefined;
      return false;
    }
    if (behind && sync.graceAt !== view.revision) {
      sync.graceAt = view.revision;
      this.checkRevisions = true;
      this.schedule();
      return false;
    }
    // Behind after the grace tick, or the database went back (restored): reload.
    return true;
  }

  /** Patches in the pending changes that chain on the view, and sends each switch what they changed. */
  private patch(sync: NetworkSync, view: NetworkView): void {
    sync.pending.sort((a, b) => a.revision - b.revision);
    const patched: Patched = { hosts: new Map(), routes: new Map() };
    let recompute = false;
    let count = 0;
    for (const change of sync.pending) {
      if (change.revision <= view.revision) {
        count++;
        continue;
      }
      if (change.kind === "reload" || change.baseRevision !== view.revision) break;
      count++;
      const names: string[] = [];
      if (change.kind === "host-removed") {
        view.removeHost(change.commonName);
        names.push(change.commonName);
      } else {
        const previous = change.previousCommonName;
        if (previous !== undefined && view.removeHost(previous)) names.push(previous);
        const { warning } = view.putHost(change.host);
        if (warning) this.deps.log.warn(`desired state: ${warning}`);
        names.push(change.host.commonName);
      }
      view.revision = change.revision;
      for (const name of names) {
        patched.hosts.set(name, view.hostNamed(name)?.desired ?? null);
        if (recompute) continue;
        const routes = sync.routes.patchHost(view, name, (cn) => this.deps.sessions.liveSwitch(view.networkId, cn));
        if (routes === undefined) recompute = true;
        else mergeRoutes(patched.routes, routes);
      }
    }
    sync.pending.splice(0, count);
    if (count === 0) return;
    if (recompute) mergeRoutes(patched.routes, this.recompute(sync, view));
    for (const stream of sync.streams.values()) this.sendPatch(sync, stream, patched);
  }

  private async reload(sync: NetworkSync, networkId: string): Promise<void> {
    const view = await loadNetworkView(this.deps.prisma, this.deps.authority, networkId);
    await this.deps.sessions.prepare(networkId);
    if (!view) {
      for (const stream of sync.streams.values()) stream.link.close(CLOSE_SWITCH_GONE, "network removed");
      return;
    }
    for (const warning of view.warnings) this.deps.log.warn(`desired state: ${warning}`);
    const before = sync.view;
    // What agents hold after patches, written back once so the diff to the new view is right.
    for (const stream of sync.streams.values()) {
      if (stream.sent && stream.hostsBehind && before)
        stream.sent = { ...stream.sent, hosts: before.hosts as DesiredHost[] };
      stream.hostsBehind = false;
    }
    sync.view = view;
    sync.graceAt = undefined;
    sync.pending = sync.pending.filter((change) => change.revision > view.revision);
    for (const sw of view.switches) {
      const was = before?.switches.find((old) => old.id === sw.id)?.enabled;
      if (was === sw.enabled || (was === undefined && sw.enabled)) continue;
      this.deps.onSwitchEnabled?.(networkId, sw.id, sw.enabled);
    }
    for (const stream of sync.streams.values()) {
      if (!view.switches.some((sw) => sw.id === stream.link.identity.switchId)) {
        stream.link.close(CLOSE_SWITCH_GONE, "switch removed");
      }
    }
  }

  private recompute(sync: NetworkSync, view: NetworkView): Map<string, RouteChange> {
    try {
      return sync.routes.recompute(view, this.deps.sessions.routeSessions(view.networkId));
    } catch (error) {
      this.deps.log.error({ err: error, networkId: view.networkId }, "route computation failed; routes kept");
      return new Map();
    }
  }

  /** The switch's state without routes (those come from the RouteState), or undefined when it cannot be built. */
  private build(sync: NetworkSync, stream: Stream, routes: Route[]): DesiredState | undefined {
    const view = sync.view;
    if (!view) return undefined;
    const switchId = stream.link.identity.switchId;
    try {
      return desiredState(switchId, stream.revision + 1, view.partsFor(switchId), view.hosts, routes);
    } catch (error) {
      const message = `cannot build the desired state: ${(error as Error).message}`;
      this.deps.log.warn({ switchId }, message);
      this.deps.status.applied(switchId, null, message);
      return undefined;
    }
  }

  private sendSnapshot(sync: NetworkSync, stream: Stream): void {
    const state = this.build(sync, stream, sync.routes.routesOf(stream.link.identity.switchId));
    if (!state || !sync.view) return;
    this.record(stream, { ...state, routes: NO_ROUTES }, sync.view.revision);
    stream.link.send(state);
  }

  private sendUpdate(sync: NetworkSync, stream: Stream, routes: RouteChange | undefined): void {
    const previous = stream.sent;
    if (!previous) {
      this.sendSnapshot(sync, stream);
      return;
    }
    if (stream.hostsBehind) {
      // Patched since the last reload, so the view did not change otherwise: routes are all there is.
      if (routes) this.sendPatch(sync, stream, { hosts: new Map(), routes: new Map() }, routes);
      return;
    }
    const next = this.build(sync, stream, NO_ROUTES);
    if (!next || !sync.view) return;
    const delta = diffDesired(previous, next);
    if (routes) delta.routes = routes;
    const lastCarried = stream.carried.at(-1)?.[1];
    // A new network revision is sent even when nothing changed for this switch, so its status catches up.
    if (isEmptyDelta(delta) && lastCarried === sync.view.revision) return;
    this.record(stream, next, sync.view.revision);
    stream.link.send(delta);
  }

  /** One delta with the patched hosts and this switch's route changes, built from the changes alone. */
  private sendPatch(sync: NetworkSync, stream: Stream, patched: Patched, routeChange?: RouteChange): void {
    const view = sync.view;
    if (!stream.sent || !view) return; // its snapshot is on the way
    const delta: DesiredStateDelta = {
      type: "desired-state-delta",
      switchId: stream.link.identity.switchId,
      baseRevision: stream.revision,
      revision: stream.revision + 1,
    };
    const upsert: DesiredHost[] = [];
    const remove: string[] = [];
    for (const [name, host] of patched.hosts) {
      if (host) upsert.push(host);
      else remove.push(name);
    }
    if (upsert.length > 0 || remove.length > 0) delta.hosts = { upsert, remove };
    if (routeChange) delta.routes = routeChange;
    const routes = patched.routes.get(stream.link.identity.switchId);
    if (routes && routes.size > 0) {
      const change: RouteChange = { upsert: [], remove: [] };
      for (const [destination, route] of routes) {
        if (route) change.upsert.push(route);
        else change.remove.push(destination);
      }
      delta.routes = change;
    }
    this.record(stream, { ...stream.sent, revision: delta.revision }, view.revision);
    stream.hostsBehind = true;
    stream.link.send(delta);
  }

  private record(stream: Stream, state: DesiredState, networkRevision: number): void {
    stream.revision = state.revision;
    stream.sent = state;
    stream.hostsBehind = false;
    stream.carried.push([state.revision, networkRevision]);
    // Bounded: an agent that never acks must not grow this forever.
    if (stream.carried.length > 1000) stream.carried.splice(0, stream.carried.length - 1000);
  }
}

/** Adds one round of route changes to what a tick collected; a destination's last word wins. */
function mergeRoutes(into: Map<string, Map<string, Route | null>>, changes: Map<string, RouteChange>): void {
  for (const [switchId, change] of changes) {
    let routes = into.get(switchId);
    if (!routes) {
      routes = new Map();
      into.set(switchId, routes);
    }
    for (const destination of change.remove) routes.set(destination, null);
    for (const route of change.upsert) routes.set(route.destination, route);
  }
}

import { join } from "node:path";
import type { DesiredState } from "@switchboard/shared";
import { linkConfigPath, SERVER_FILES } from "../reconcile/layout.ts";
import { ProcessSupervisor, type Spawner } from "./process-supervisor.ts";

export interface OpenVpnProcessesOptions {
  readonly baseDir: string;
  /** The openvpn program; default `openvpn` on PATH. */
  readonly binary?: string;
  readonly spawn?: Spawner;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  readonly log?: { info(message: string): void; warn(message: string): void };
}

/**
 * Managed mode: the agent runs the data server and one process per backbone link itself, each
 * under a supervisor that restarts it with backoff. `sync` is declarative (the same state twice
 * changes nothing): it starts what the state has and stops links it no longer has. Configs are
 * passed by absolute path, because OpenVPN may change directory before it reads them again.
 * External mode (the default) runs none of this: systemd runs OpenVPN and the agent signals it
 * through the management interface.
 */
export class OpenVpnProcesses {
  private server: ProcessSupervisor | undefined;
  private readonly links = new Map<number, ProcessSupervisor>();

  constructor(private readonly options: OpenVpnProcessesOptions) {}

  sync(state: DesiredState | undefined): void {
    if (state === undefined) return;
    this.server ??= this.supervise("openvpn server", SERVER_FILES.serverConfig);
    const wanted = new Set(state.links.map((link) => link.peerOffset));
    for (const offset of wanted) {
      if (!this.links.has(offset))
        this.links.set(offset, this.supervise(`openvpn link ${offset}`, linkConfigPath(offset)));
    }
    for (const [offset, supervisor] of this.links) {
      if (wanted.has(offset)) continue;
      this.links.delete(offset);
      void supervisor.stop();
    }
  }

  /** The running link toward a peer, for reload-link actions (a restart re-reads its config and keys). */
  link(peerOffset: number): { reload(): Promise<void> } | undefined {
    const supervisor = this.links.get(peerOffset);
    if (!supervisor?.running) return undefined;
    return { reload: () => supervisor.restart() };
  }

  /** Reloads the data server by restarting it (see ProcessSupervisor.restart); false when it is not running. */
  async reloadServer(): Promise<boolean> {
    if (!this.server?.running) return false;
    await this.server.restart();
    return true;
  }

  running(): { server: boolean; links: number[] } {
    return {
      server: this.server?.running ?? false,
      links: [...this.links].filter(([, s]) => s.running).map(([offset]) => offset),
    };
  }

  async stop(): Promise<void> {
    const all = [...this.links.values(), ...(this.server ? [this.server] : [])];
    this.links.clear();
    this.server = undefined;
    await Promise.all(all.map((supervisor) => supervisor.stop()));
  }

  private supervise(name: string, relativeConfig: string): ProcessSupervisor {
    const supervisor = new ProcessSupervisor({
      name,
      command: this.options.binary ?? "openvpn",
      args: ["--config", join(this.options.baseDir, relativeConfig)],
      ...(this.options.spawn ? { spawn: this.options.spawn } : {}),
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    supervisor.start();
    return supervisor;
  }
}

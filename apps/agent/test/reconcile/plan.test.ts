import { describe, expect, it } from "vitest";
import { sha256 } from "../../src/files/file-writer.ts";
import { type Action, plan } from "../../src/reconcile/plan.ts";
import { desiredState, HOOK, inSync, planDesired } from "../support/desired.ts";

const kinds = (actions: Action[]) =>
  actions.map((a) => (a.kind === "write-file" || a.kind === "remove-file" ? `${a.kind} ${a.path}` : a.kind));

describe("plan", () => {
  it("only re-applies routes when everything is in place (the route programmer makes that a no-op)", () => {
    const actions = plan(planDesired(), inSync());
    expect(kinds(actions)).toEqual(["apply-routes"]);
    expect(actions[0]).toMatchObject({ routes: desiredState().routes, verifiedFullSnapshot: true });
  });

  it("installs everything on a fresh switch, keys 0600, without reloading a server that is not running", () => {
    const empty = { files: new Map(), ccdFiles: [], topFiles: [], sessions: [] };
    const actions = plan(planDesired(), empty);
    expect(kinds(actions)).toEqual([
      "apply-routes",
      "write-file server.conf",
      "write-file ca.crt",
      "write-file server.crt",
      "write-file server.key",
      "write-file crl.pem",
      "write-file tls-crypt.key",
      "write-file backbone-tls-crypt.key",
      "write-file backbone.crt",
      "write-file backbone.key",
      "write-file client-hook",
      "write-file ccd/web-1",
      "write-file ccd/db-1",
      "write-file backbone-2.conf",
    ]);
    const modes = Object.fromEntries(actions.flatMap((a) => (a.kind === "write-file" ? [[a.path, a.mode]] : [])));
    expect(modes).toMatchObject({
      "server.key": "secret",
      "backbone.key": "secret",
      "tls-crypt.key": "secret",
      "backbone-tls-crypt.key": "secret",
      "ca.crt": "public",
      "client-hook": "executable",
    });
  });

  it("reloads the server when its certificate changes, and then kills no one (a reload drops everyone)", () => {
    const state = desiredState();
    const next = desiredState({
      server: { ...state.server, serverCert: "NEW CERT\n" },
      hosts: state.hosts.map((h) => (h.commonName === "db-1" ? { ...h, clientConfig: "changed\n" } : h)),
    });
    const actions = plan(planDesired(next), inSync(state, [{ commonName: "db-1", clientId: 4 }]));
    expect(kinds(actions)).toEqual(["apply-routes", "write-file server.crt", "write-file ccd/db-1", "reload-server"]);
    expect(actions.at(-1)).toEqual({ kind: "reload-server", because: ["server.crt"] });
  });

  it("does not reload the server for a new CRL (OpenVPN re-reads it), nor the links", () => {
    const state = desiredState();
    const next = desiredState({ server: { ...state.server, crl: "CRL 2\n" } });
    expect(kinds(plan(planDesired(next), inSync(state)))).toEqual(["apply-routes", "write-file crl.pem"]);
  });

  it("kills the session of a host whose client-config changed, after writing the new file", () => {
    const state = desiredState();
    const next = desiredState({
      hosts: state.hosts.map((h) => (h.commonName === "db-1" ? { ...h, clientConfig: "changed\n" } : h)),
    });
    const actions = plan(
      planDesired(next),
      inSync(state, [
        { commonName: "db-1", clientId: 4 },
        { commonName: "web-1", clientId: 5 },
      ]),
    );
    expect(kinds(actions)).toEqual(["apply-routes", "write-file ccd/db-1", "kill-session"]);
    expect(actions.at(-1)).toEqual({
      kind: "kill-session",
      commonName: "db-1",
      clientId: 4,
      because: "client-config-changed",
    });
  });

  it("removes the file and kills the session of a removed host, and of a disabled one", () => {
    const state = desiredState();
    const next = desiredState({
      hosts: state.hosts
        .filter((h) => h.commonName !== "db-1")
        .map((h) => (h.commonName === "web-1" ? { ...h, clientConfig: null } : h)),
    });
    const actions = plan(
      planDesired(next),
      inSync(state, [
        { commonName: "db-1", clientId: 4 },
        { commonName: "web-1", clientId: 5 },
      ]),
    );
    expect(kinds(actions)).toEqual([
      "apply-routes",
      "remove-file ccd/web-1",
      "remove-file ccd/db-1",
      "kill-session",
      "kill-session",
    ]);
    expect(actions.slice(-2)).toEqual([
      { kind: "kill-session", commonName: "web-1", clientId: 5, because: "host-disabled" },
      { kind: "kill-session", commonName: "db-1", clientId: 4, because: "host-removed" },
    ]);
  });

  it("cannot kill a session whose client id is not known yet (status 3 will tell, the next plan does it)", () => {
    const state = desiredState();
    const next = desiredState({ hosts: state.hosts.filter((h) => h.commonName !== "db-1") });
    expect(kinds(plan(planDesired(next), inSync(state, [{ commonName: "db-1", clientId: null }])))).toEqual([
      "apply-routes",
      "remove-file ccd/db-1",
    ]);
  });

  it("rewrites a key with the wrong mode without reloading anything", () => {
    const observed = inSync();
    const files = new Map(observed.files);
    files.set("server.key", { sha256: sha256("KEY\n"), mode: 0o644 });
    expect(kinds(plan(planDesired(), { ...observed, files }))).toEqual(["apply-routes", "write-file server.key"]);
  });

  it("reloads a link whose config changed and every link when the backbone key changes; removes a dropped link's config", () => {
    const state = desiredState({
      links: [
        { peerOffset: 2, config: "a\n" },
        { peerOffset: 3, config: "b\n" },
      ],
    });
    const next = desiredState({
      links: [{ peerOffset: 2, config: "a2\n" }],
      server: { ...state.server, backboneKey: "NEWKEY\n" },
    });
    const actions = plan(planDesired(next), inSync(state));
    expect(kinds(actions)).toEqual([
      "apply-routes",
      "write-file backbone.key",
      "write-file backbone-2.conf",
      "remove-file backbone-3.conf",
      "reload-link",
    ]);
    expect(actions.at(-1)).toEqual({
      kind: "reload-link",
      peerOffset: 2,
      because: ["backbone-2.conf", "backbone.key"],
    });
  });

  it("applies the local rule: no /32 for a host connected here, its subnet into the tun", () => {
    const actions = plan(planDesired(), inSync(desiredState(), [{ commonName: "web-1", clientId: 1 }]));
    expect(actions[0]).toEqual({
      kind: "apply-routes",
      verifiedFullSnapshot: true,
      // The full plan reads the kernel: it puts back a route someone deleted by hand.
      readKernel: true,
      routes: [
        { destination: "10.100.100.2/32", via: "10.200.200.2", dev: "sbb-aaaaa-2" },
        { destination: "192.168.10.0/24", via: "10.100.100.10", dev: "sbs-aaaaa" },
      ],
    });
  });

  it("updates the hook program when its text changes", () => {
    const actions = plan({ ...planDesired(), hookScript: `${HOOK}# v2\n` }, inSync());
    expect(kinds(actions)).toEqual(["apply-routes", "write-file client-hook"]);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { describeNeeding } from "@switchboard/testkit/needs";
import { seedNetwork } from "@switchboard/testkit/network-fixture";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { type Browser, launchChromium } from "./support/chromium.ts";
import { type ConsoleServer, startConsoleServer } from "./support/console-server.ts";
import { field, fieldError, screenshot, signIn, signOut } from "./support/page-helpers.ts";

interface Node {
  id: string;
  name: string;
  sim: SwitchSim;
  agent: TestAgent;
}

describeNeeding(["chromium"], "console in Chromium: the flows an operator walks", () => {
  let server: ConsoleServer;
  const tmp = mkdtempSync(join(tmpdir(), "sb-e2e-files-"));

  beforeAll(async () => {
    server = await startConsoleServer();
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * The operator's first session, through the forms: each step works on what the one before made
   * in the page (the network it created, then its switches, then its hosts), so this part is a
   * chain on purpose. A failed step names itself; the steps after it are reported as not run.
   */
  describe("the operator's first flow, step by step through the forms", () => {
    let browser: Browser;
    let page: Page;
    const STEPS = 5;
    /** The last step that passed, and the one that failed (the steps after it are not run). */
    let passedStep = 0;
    let failedStep: string | undefined;

    /** One step of the flow: `step N of 5 ...: title`; not run unless the step before it passed. */
    function step(n: number, title: string, body: () => Promise<void>): void {
      const name = `step ${n} of ${STEPS} of the operator's flow: ${title}`;
      it(name, async (context) => {
        if (failedStep) context.skip(`not run: ${failedStep} failed`);
        if (passedStep !== n - 1) context.skip(`not run: step ${n - 1} did not run (this step builds on it)`);
        try {
          await body();
          passedStep = n;
        } catch (error) {
          failedStep = `step ${n} (${title})`;
          await screenshot(page, `failed-flow-step-${n}`).catch(() => undefined);
          if (error instanceof Error) error.message = `${name} failed: ${error.message}`;
          throw error;
        }
      });
    }

    beforeAll(async () => {
      browser = await launchChromium();
      page = await browser.context.newPage();
      page.setDefaultTimeout(15_000);
    });
    afterAll(async () => {
      await browser?.close();
    });

    step(1, "signs in on the sign-in page and lands on the overview", async () => {
      await page.goto(`${server.base}/hosts`);
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      await screenshot(page, "01-sign-in");
      await signIn(page, server.base);
      await page.getByTestId("live-status").and(page.locator('[data-status="open"]')).waitFor();
      await screenshot(page, "02-overview-empty");
    });

    step(2, "creates the network office in the form", async () => {
      await page.getByRole("link", { name: "Networks" }).click();
      await page.getByRole("button", { name: "New network" }).first().click();
      const dialog = page.getByRole("dialog");
      await field(dialog, "Name").fill("office");
      await field(dialog, "Data subnet").fill("10.100.100.0/24");
      await field(dialog, "Backbone subnet").fill("10.200.200.0/24");
      await dialog.getByRole("button", { name: "Create network" }).click();
      await dialog.waitFor({ state: "hidden" });
      await page.getByTestId("networks-table").getByText("office").waitFor();
      await screenshot(page, "03-networks");
    });

    step(3, "creates two switches in office", async () => {
      await page.getByRole("link", { name: "Switches" }).click();
      for (const [name, endpoint, dataAddress] of [
        ["fra-1", "fra.example.net", "10.100.100.1"],
        ["ams-1", "ams.example.net", "10.100.100.2"],
      ] as const) {
        await page.getByRole("button", { name: "New switch" }).first().click();
        const dialog = page.getByRole("dialog");
        await field(dialog, "Network").click();
        await page.getByRole("option", { name: /office/ }).click();
        await field(dialog, "Name").fill(name);
        await field(dialog, "Public endpoint").fill(endpoint);
        await field(dialog, "Data address").fill(dataAddress);
        await dialog.getByRole("button", { name: "Create switch" }).click();
        await dialog.waitFor({ state: "hidden" });
        await page.getByTestId("switches-table").getByRole("link", { name }).waitFor();
      }
      await screenshot(page, "04-switches");
    });

    step(4, "creates hosts in office, and shows the API's validation message at the field", async () => {
      await page.getByRole("link", { name: "Hosts" }).click();
      await page.getByTestId("empty-state").waitFor();
      await createHost(page, "web-1", "");
      await createHost(page, "db-1", "10.99.0.5");
      const dialog = page.getByRole("dialog");
      const message = await fieldError(field(dialog, "Address"));
      expect(message).toContain("is outside the data subnet 10.100.100.0/24");
      await screenshot(page, "05-host-validation-error");
      await field(dialog, "Address").fill("10.100.100.50");
      await dialog.getByRole("button", { name: "Create host" }).click();
      await dialog.waitFor({ state: "hidden" });
      await page.locator('[data-host="db-1"]').waitFor();
    });

    step(5, "imports hosts from CSV: a per-row report when rows are bad, then the import", async () => {
      const bad = join(tmp, "bad.csv");
      writeFileSync(
        bad,
        "commonName,address,tags\napp-1,10.100.100.60,app\nbad name!,,app\napp-3,10.100.100.999,app\n",
      );
      const good = join(tmp, "good.csv");
      writeFileSync(
        good,
        "commonName,address,tags\napp-1,10.100.100.60,app\napp-2,,app;blue\napp-3,10.100.100.62,app\n",
      );
      await page.getByRole("button", { name: "Import CSV" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.locator('input[type="file"]').setInputFiles(bad);
      await dialog.getByRole("button", { name: "Import" }).click();
      const report = page.getByTestId("import-errors");
      await report.waitFor();
      expect(await report.textContent()).toMatch(/2 \(line 3\)[\s\S]*commonName/);
      expect(await report.textContent()).toMatch(/3 \(line 4\)[\s\S]*address/);
      await screenshot(page, "06-import-errors");
      await dialog.locator('input[type="file"]').setInputFiles(good);
      await dialog.getByRole("button", { name: "Import" }).click();
      await dialog.getByText("Imported 3 hosts.").waitFor();
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      for (const name of ["app-1", "app-2", "app-3", "web-1", "db-1"])
        await page.locator(`[data-host="${name}"]`).waitFor();
      expect(await page.getByTestId("hosts-count").textContent()).toBe("5 of 5");
      await page.getByRole("link", { name: "Overview" }).click();
      await page.getByTestId("recent-events").getByText("admin: host.import").waitFor();
    });
  });

  /**
   * What an operator does on an existing network. Each test makes its own network (names of its
   * own) through the API and signs in on a fresh page, so any one of them runs alone (`-t`).
   */
  describe("on a network made through the API, one test each", () => {
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      browser = await launchChromium();
    });
    beforeEach(async () => {
      await browser.context.clearCookies();
      page = await browser.context.newPage();
      page.setDefaultTimeout(15_000);
      await signIn(page, server.base);
      // Live before the test makes its network: the page hears of everything made from here on.
      await page.getByTestId("live-status").and(page.locator('[data-status="open"]')).waitFor();
    });
    afterEach(async (context) => {
      if (context.task.result?.state === "fail" && page) {
        await screenshot(page, `failed-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`);
      }
      await page?.close();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it("downloads a host's profile from its drawer", async () => {
      await seedNetwork(server.post, { switches: ["dl-fra", "dl-ams"], hosts: ["dl-web"] });
      await openHost(page, "dl-web");
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByTestId("download-profile").click(),
      ]);
      const path = join(tmp, "dl-web.ovpn");
      await download.saveAs(path);
      const profile = readFileSync(path, "utf8");
      expect(profile).toContain("client");
      expect(profile).toMatch(/remote dl-(fra|ams)\.example\.net/);
      expect(profile).toContain("BEGIN CERTIFICATE");
      await screenshot(page, "07-host-drawer");
    });

    it("revokes a certificate after confirming, and lists it as revoked", async () => {
      await seedNetwork(server.post, { switches: ["rv-1"], hosts: ["rv-db"] });
      await openHost(page, "rv-db");
      await page.getByRole("button", { name: "Issue certificate" }).click();
      const certificates = page.getByTestId("host-certificates");
      await certificates.getByRole("button", { name: "Revoke" }).click();
      const confirm = page.getByRole("dialog", { name: /Revoke the certificate of rv-db/ });
      await confirm.getByRole("combobox", { name: "Reason" }).click();
      await page.getByRole("option", { name: "Key compromise" }).click();
      await confirm.getByRole("button", { name: "Revoke" }).click();
      await certificates.getByText("revoked").waitFor();
      // Revoked stays out: no profile until a new certificate is issued on purpose, after a confirmation.
      await page
        .getByTestId("profile-blocked")
        .getByText(/certificate was revoked/)
        .waitFor();
      expect(await page.getByTestId("download-profile").isDisabled()).toBe(true);
      await page.getByRole("button", { name: "Issue new certificate" }).click();
      const reissue = page.getByRole("dialog", { name: "Issue a new certificate for rv-db?" });
      await reissue.getByRole("button", { name: "Cancel" }).click();
      await reissue.waitFor({ state: "hidden" });
      expect(await certificates.getByText("active").count(), "nothing issued without confirming").toBe(0);
      await page.keyboard.press("Escape");
      await page.getByRole("link", { name: "Certificates" }).click();
      await page.getByText("Revoked", { exact: true }).click();
      const row = page.getByTestId("certificates-table").locator('[data-cn="rv-db"]');
      await row.waitFor();
      expect(await row.textContent()).toContain("keyCompromise");
      await screenshot(page, "08-certificates-revoked");
    });

    it("re-issues a switch's certificates after confirming, replacing both", async () => {
      const { switchIds } = await seedNetwork(server.post, { switches: ["ri-1"] });
      const inForce = async () =>
        (
          await server.api<{ items: { id: string; kind: string }[] }>(
            "GET",
            `/api/certificates?switchId=${switchIds[0]}&state=active`,
          )
        ).items
          .map((c) => `${c.kind}:${c.id}`)
          .sort();
      const before = await inForce();
      await page.goto(`${server.base}/switches/${switchIds[0]}`);
      await page.getByTestId("reissue-certificates").click();
      const dialog = page.getByRole("dialog", { name: "Re-issue the certificates of ri-1?" });
      await dialog.getByRole("button", { name: "Re-issue certificates" }).click();
      await dialog.waitFor({ state: "hidden" });
      const after = await inForce();
      expect(after.map((c) => c.split(":")[0])).toEqual(["backbone", "server"]);
      expect(
        after.filter((c) => before.includes(c)),
        "none of the old ones left in force",
      ).toEqual([]);
    });

    it("shows a host come online, then move to the other switch, live without a reload", async () => {
      const seeded = await seedNetwork(server.post, { switches: ["lv-fra", "lv-ams"], hosts: ["lv-web"] });
      const [fra, ams] = (await connectAgents(server, seeded.switchIds)) as [Node, Node];

      await page.getByRole("link", { name: "Switches" }).click();
      const table = page.getByTestId("switches-table");
      for (const node of [fra, ams]) {
        await table
          .getByRole("row", { name: new RegExp(node.name) })
          .locator('[data-testid="agent-badge"][data-online="true"]')
          .waitFor();
      }
      await page.evaluate(() => {
        (window as unknown as { notReloaded: boolean }).notReloaded = true;
      });
      await page.getByRole("link", { name: "Hosts" }).click();
      await page.getByTestId("host-search").fill("lv-web");
      const row = page.locator('[data-host="lv-web"]');
      await row.locator('[data-online="false"]').waitFor();

      const now = Math.floor(Date.now() / 1000);
      fra.sim.connect("lv-web", 11, now);
      await row.locator('[data-online="true"]').waitFor();
      expect(await row.textContent()).toContain("lv-fra");
      await screenshot(page, "09-hosts-live-online");

      ams.sim.connect("lv-web", 12, now + 2); // Newer, within the API's 5 s of clock skew.
      await row.getByText("lv-ams").waitFor();
      expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

      await page.getByRole("link", { name: "Overview" }).click();
      await page.locator('[data-switch="lv-ams"][data-hosts="1"]').waitFor();
      await page.locator('[data-switch="lv-fra"][data-agent="online"]').waitFor();
      const events = page.getByTestId("recent-events");
      await events.getByText("lv-web moved from lv-fra to lv-ams").waitFor();
      // The audit log's line for the seeding: made with the admin's API token.
      await events.getByText("token:e2e seeding: host.create").first().waitFor();
      await screenshot(page, "10-overview-live");
    });

    it("shows a switch's agent, applied revision, routes and rendered config", async () => {
      const seeded = await seedNetwork(server.post, { switches: ["sp-a", "sp-b"], hosts: ["sp-host"] });
      const [a, b] = (await connectAgents(server, seeded.switchIds)) as [Node, Node];
      const switches = await server.api<{ id: string; dataAddress: string }[]>("GET", "/api/switches");
      const bAddress = switches.find((sw) => sw.id === b.id)?.dataAddress;

      await page.getByRole("link", { name: "Switches" }).click();
      await page.getByTestId("switches-table").getByRole("link", { name: a.name }).click();
      await page.getByRole("heading", { name: a.name }).waitFor();
      // The agent acknowledged the network's current revision (the ack reaches the page live).
      const revision = await server.api<{ revisionDesired: number }>("GET", `/api/switches/${a.id}/status`);
      await page
        .getByTestId("revision")
        .getByText(`${revision.revisionDesired} / ${revision.revisionDesired}`)
        .waitFor();
      await page.getByRole("tab", { name: "Routes" }).click();
      await page.getByTestId("switch-routes").getByText(`${bAddress}/32`).waitFor();
      await screenshot(page, "11-switch-routes");
      await page.getByRole("tab", { name: "Server config" }).click();
      expect(await page.getByTestId("switch-config").textContent()).toContain("server");
      await screenshot(page, "12-switch-config");
    });

    it("shows the audit log and the account pages, also on a laptop screen", async () => {
      await seedNetwork(server.post, { switches: ["au-1"], hosts: ["au-host"] });
      await page.getByRole("link", { name: "Audit log" }).click();
      await page.getByTestId("audit-table").getByText("host.create").first().waitFor();
      await screenshot(page, "13-audit");
      await page.getByRole("link", { name: "Users" }).click();
      await page.getByTestId("users-table").getByText("admin").waitFor();
      await screenshot(page, "14-users");
      await page.getByRole("link", { name: "API tokens" }).click();
      await page.getByRole("button", { name: "New token" }).first().click();
      const dialog = page.getByRole("dialog");
      await field(dialog, "Name").fill("ci");
      await dialog.getByRole("button", { name: "Create token" }).click();
      expect(await page.getByTestId("secret-value").textContent()).toMatch(/^sbt_/);
      await screenshot(page, "15-tokens");
      await page.getByRole("link", { name: "Change password" }).click();
      await screenshot(page, "16-password");
      // A laptop screen: the same pages, narrower.
      await page.setViewportSize({ width: 1024, height: 700 });
      await page.getByRole("link", { name: "Hosts" }).click();
      await page.locator('[data-host="au-host"]').waitFor();
      await screenshot(page, "17-hosts-laptop");
      await page.getByRole("link", { name: "Overview" }).click();
      await screenshot(page, "18-overview-laptop");
      await signOut(page);
    });
  });
});

/**
 * Enrols each switch with a one-time token and starts a test agent on a simulated switch for
 * it; resolves once every agent's management connection is up. Stopped when the test ends.
 */
async function connectAgents(server: ConsoleServer, switchIds: readonly string[]): Promise<Node[]> {
  const switches = await server.api<{ id: string; name: string }[]>("GET", "/api/switches");
  const nodes: Node[] = [];
  onTestFinished(async () => {
    for (const node of nodes) {
      await node.agent.destroy().catch(() => undefined);
      await node.sim.close().catch(() => undefined);
      rmSync(node.sim.baseDir, { recursive: true, force: true });
    }
  });
  for (const id of switchIds) {
    const name = switches.find((sw) => sw.id === id)?.name ?? id;
    const { token } = await server.api<{ token: string }>("POST", `/api/switches/${id}/enrollment`, {});
    const enrolled = await fetch(`${server.base}/api/agent/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    expect(enrolled.status).toBe(200);
    const { credential } = (await enrolled.json()) as { credential: string };
    const sim = await startSwitchSim();
    const agent = await startTestAgent({ api: server.base, credential, switchId: id, baseDir: sim.baseDir });
    nodes.push({ id, name, sim, agent });
  }
  for (const node of nodes) {
    await expect
      .poll(() => node.sim.management.connections, { message: `${node.name}'s management connection`, timeout: 30_000 })
      .toBeGreaterThan(0);
  }
  return nodes;
}

async function createHost(page: Page, commonName: string, address: string) {
  await page
    .getByRole("button", { name: /New host|Add the first host/ })
    .first()
    .click();
  const dialog = page.getByRole("dialog");
  await field(dialog, "Network").click();
  await page.getByRole("option", { name: /office/ }).click();
  await field(dialog, "Common name").fill(commonName);
  if (address) await field(dialog, "Address").fill(address);
  await dialog.getByRole("button", { name: "Create host" }).click();
  if (!address.startsWith("10.99")) {
    await dialog.waitFor({ state: "hidden" });
    await page.locator(`[data-host="${commonName}"]`).waitFor();
  }
}

async function openHost(page: Page, commonName: string) {
  await page.getByRole("link", { name: "Hosts" }).click();
  await page.locator(`[data-host="${commonName}"]`).getByRole("button", { name: commonName }).click();
  await page.getByRole("dialog", { name: commonName }).waitFor();
}

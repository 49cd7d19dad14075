import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium, launchChromium, reportMissingChromium } from "./support/chromium.ts";
import { type ConsoleServer, startConsoleServer } from "./support/console-server.ts";
import { field, fieldError, screenshot, signIn, until } from "./support/page-helpers.ts";

reportMissingChromium();

interface Node {
  id: string;
  name: string;
  sim: SwitchSim;
  agent: TestAgent;
}

describe.skipIf(!hasChromium)("console in Chromium (needs /usr/bin/chromium): the flows an operator walks", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  const nodes: Node[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "sb-e2e-files-"));

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
  });
  afterEach(async (context) => {
    // A failed step leaves a picture of the page, then closes any dialog so the next step starts clean.
    if (context.task.result?.state === "fail" && page) {
      await screenshot(page, `failed-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`);
      await page.keyboard.press("Escape");
      await page.keyboard.press("Escape");
    }
  });
  afterAll(async () => {
    for (const node of nodes) {
      await node.agent.destroy().catch(() => undefined);
      await node.sim.close().catch(() => undefined);
      rmSync(node.sim.baseDir, { recursive: true, force: true });
    }
    await browser?.close();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("signs in on the sign-in page and lands on the overview", async () => {
    await page.goto(`${server.base}/hosts`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await screenshot(page, "01-sign-in");
    await signIn(page, server.base);
    await page.getByTestId("live-status").and(page.locator('[data-status="open"]')).waitFor({ timeout: 10_000 });
    await screenshot(page, "02-overview-empty");
  });

  it("creates a network in the form", async () => {
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

  it("creates two switches", async () => {
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

  it("creates hosts, and shows the API's validation message at the field", async () => {
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

  it("imports hosts from CSV: a per-row report when rows are bad, then the import", async () => {
    const bad = join(tmp, "bad.csv");
    writeFileSync(bad, "commonName,address,tags\napp-1,10.100.100.60,app\nbad name!,,app\napp-3,10.100.100.999,app\n");
    const good = join(tmp, "good.csv");
    writeFileSync(good, "commonName,address,tags\napp-1,10.100.100.60,app\napp-2,,app;blue\napp-3,10.100.100.62,app\n");
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
    await page.locator('[data-host="app-2"]').waitFor();
    expect(await page.getByTestId("hosts-count").textContent()).toBe("5 of 5");
  });

  it("downloads a host's profile", async () => {
    await openHost(page, "web-1");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-profile").click()]);
    const path = join(tmp, "web-1.ovpn");
    await download.saveAs(path);
    const profile = readFileSync(path, "utf8");
    expect(profile).toContain("client");
    expect(profile).toMatch(/remote (fra|ams)\.example\.net/);
    expect(profile).toContain("BEGIN CERTIFICATE");
    await screenshot(page, "07-host-drawer");
    await page.keyboard.press("Escape");
  });

  it("revokes a certificate after confirming, and lists it as revoked", async () => {
    await openHost(page, "db-1");
    await page.getByRole("button", { name: "Issue certificate" }).click();
    const certificates = page.getByTestId("host-certificates");
    await certificates.getByRole("button", { name: "Revoke" }).click();
    const confirm = page.getByRole("dialog", { name: /Revoke the certificate of db-1/ });
    await confirm.getByRole("combobox", { name: "Reason" }).click();
    await page.getByRole("option", { name: "Key compromise" }).click();
    await confirm.getByRole("button", { name: "Revoke" }).click();
    await certificates.getByText("revoked").waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("link", { name: "Certificates" }).click();
    await page.getByText("Revoked", { exact: true }).click();
    const row = page.getByTestId("certificates-table").locator('[data-cn="db-1"]');
    await row.waitFor();
    expect(await row.textContent()).toContain("keyCompromise");
    await screenshot(page, "08-certificates-revoked");
  });

  it("shows a host come online, then move to the other switch, live without a reload", async () => {
    const switches = await server.api<{ id: string; name: string }[]>("GET", "/api/switches");
    for (const sw of switches) {
      const { token } = await server.api<{ token: string }>("POST", `/api/switches/${sw.id}/enrollment`, {});
      const enrolled = await fetch(`${server.base}/api/agent/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
      });
      expect(enrolled.status).toBe(200);
      const { credential } = (await enrolled.json()) as { credential: string };
      const sim = await startSwitchSim();
      const agent = await startTestAgent({ api: server.base, credential, switchId: sw.id, baseDir: sim.baseDir });
      nodes.push({ id: sw.id, name: sw.name, sim, agent });
    }
    for (const node of nodes)
      await until(() => node.sim.management.connections > 0, `${node.name}'s management connection`);

    await page.getByRole("link", { name: "Switches" }).click();
    await until(
      async () => (await page.locator('[data-testid="agent-badge"][data-online="true"]').count()) === 2,
      "both agents online in the page",
      15_000,
    );
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await page.getByRole("link", { name: "Hosts" }).click();
    await page.getByTestId("host-search").fill("web-1");
    const row = page.locator('[data-host="web-1"]');
    await row.locator('[data-online="false"]').waitFor();

    const fra = nodes.find((n) => n.name === "fra-1") as Node;
    const ams = nodes.find((n) => n.name === "ams-1") as Node;
    const now = Math.floor(Date.now() / 1000);
    let started = Date.now();
    fra.sim.connect("web-1", 11, now);
    await row.locator('[data-online="true"]').waitFor({ timeout: 5000 });
    const onlineMs = Date.now() - started;
    expect(await row.textContent()).toContain("fra-1");
    await screenshot(page, "09-hosts-live-online");

    started = Date.now();
    ams.sim.connect("web-1", 12, now + 5);
    await until(async () => ((await row.textContent()) ?? "").includes("ams-1"), "web-1 to show on ams-1", 5000);
    const roamMs = Date.now() - started;
    process.stdout.write(`live: online shown in ${onlineMs} ms, roam shown in ${roamMs} ms\n`);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

    await page.getByRole("link", { name: "Overview" }).click();
    await page.locator('[data-switch="ams-1"][data-hosts="1"]').waitFor();
    await page.locator('[data-switch="fra-1"][data-agent="online"]').waitFor();
    const events = page.getByTestId("recent-events");
    await events.getByText("web-1 moved from fra-1 to ams-1").waitFor();
    await events.getByText("admin: host.import").waitFor();
    await screenshot(page, "10-overview-live");
  });

  it("shows a switch's agent, sessions, routes and rendered config", async () => {
    await page.getByRole("link", { name: "Switches" }).click();
    await page.getByTestId("switches-table").getByRole("link", { name: "fra-1" }).click();
    await page.getByRole("heading", { name: "fra-1" }).waitFor();
    // The agent acknowledged the network's current revision (the ack reaches the page live).
    const revision = await server.api<{ revisionDesired: number }>(
      "GET",
      `/api/switches/${nodes.find((n) => n.name === "fra-1")?.id}/status`,
    );
    await page.getByTestId("revision").getByText(`${revision.revisionDesired} / ${revision.revisionDesired}`).waitFor();
    await page.getByRole("tab", { name: "Routes" }).click();
    await page.getByTestId("switch-routes").getByText("10.100.100.2/32").waitFor();
    await screenshot(page, "11-switch-routes");
    await page.getByRole("tab", { name: "Server config" }).click();
    expect(await page.getByTestId("switch-config").textContent()).toContain("server");
    await screenshot(page, "12-switch-config");
  });

  it("shows the audit log and the account pages", async () => {
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
    await page.locator('[data-host="web-1"]').waitFor();
    await screenshot(page, "17-hosts-laptop");
    await page.getByRole("link", { name: "Overview" }).click();
    await screenshot(page, "18-overview-laptop");
    await page.getByTestId("user-menu").click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
  });
});

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

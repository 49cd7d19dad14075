import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab, labMissing } from "../lab/lab.ts";
import { type Browser, hasChromium, launchChromium } from "./support/chromium.ts";
import { field, screenshot, until } from "./support/page-helpers.ts";

// The console watching a real network: the namespace lab (real OpenVPN switches and hosts,
// real agents, the real API) when this machine can run it (root, openvpn), Chromium in front.
const missing = labMissing() ?? (hasChromium ? undefined : "Chromium is not installed");
if (missing) process.stderr.write(`\n*** console on the lab SKIPPED: ${missing} ***\n\n`);

describe.skipIf(missing !== undefined)(`console on the namespace lab${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let lab: Lab;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    lab = await Lab.up({ switches: 2, hosts: 2, consolePort: 0 });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(20_000);
  });
  afterAll(async () => {
    await browser?.close();
    await lab?.down();
  });

  it("signs in with the lab's login and draws both switches with their real backbone link up", async () => {
    const base = (lab.state.consoleUrl ?? "").replace(/\/$/, "");
    await page.goto(`${base}/`);
    await field(page, "Username").fill(lab.state.admin?.username ?? "");
    await field(page, "Password").fill(lab.state.admin?.password ?? "");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.locator('[data-link="a-b"][data-state="up"]').waitFor({ state: "attached", timeout: 30_000 });
    const topology = page.getByTestId("topology-lab");
    await until(
      async () =>
        /a: agent online, 1 hosts; b: agent online, 1 hosts/.test((await topology.getAttribute("aria-label")) ?? ""),
      "both agents online with one host each in the drawing",
      15_000,
    );
    await screenshot(page, "lab-overview");
  });

  it("shows a real host moving to the other switch live, without a reload", async () => {
    const host1 = lab.host("host1");
    await page.getByRole("link", { name: "Hosts" }).click();
    await page.getByTestId("host-search").fill("host1");
    const row = page.getByTestId("hosts-table").getByRole("row", { name: /host1/ });
    await row.getByText("online").waitFor();
    const switchCell = () => row.getByRole("cell").nth(3).textContent();
    expect(await switchCell()).toBe("a");
    const asked = Date.now();
    await lab.api.post(`/api/hosts/${host1.id}/kill-session`, { nextRemote: true });
    await until(async () => (await switchCell()) === "b", "host1 to show on switch b", 15_000);
    process.stdout.write(
      `console: host1 shown on switch b ${Date.now() - asked} ms after the kill (reconnect included)\n`,
    );
    await row.getByText("online").waitFor();
    await screenshot(page, "lab-hosts-moved");
  });

  it("shows a host going offline when its OpenVPN stops, and online again when it comes back", async () => {
    const host2 = lab.host("host2");
    await page.getByTestId("host-search").fill("host2");
    const row = page.getByTestId("hosts-table").getByRole("row", { name: /host2/ });
    await row.getByText("online").waitFor();
    await lab.stopHost(host2);
    await row.getByText("offline").waitFor({ timeout: 10_000 });
    const started = Date.now();
    const up = await lab.restartHost(host2);
    await row.getByText("online").waitFor({ timeout: 10_000 });
    process.stdout.write(
      `console: host2 online in the page ${Date.now() - up} ms after its tunnel came up (${up - started} ms to connect)\n`,
    );
  });
});

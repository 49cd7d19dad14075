import { missing, type Need, requireAll } from "@switchboard/testkit/env";
import { describeNeeding } from "@switchboard/testkit/needs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab, labMissing } from "../lab/lab.ts";
import { type Browser, launchChromium } from "./support/chromium.ts";
import { field, screenshot } from "./support/page-helpers.ts";

// The console watching a real network: the namespace lab (real OpenVPN switches and hosts,
// real agents, the real API) when this machine can run it, Chromium in front.
const TITLE = "console on the namespace lab";
const NEEDS: Need[] = ["root", "openvpn", "openssl", "netns", "chromium"];
// The lab also needs what no Need names (unshare, ping, /dev/net/tun): labMissing() says which.
const labOnly = missing(...NEEDS) === undefined ? labMissing() : undefined;
if (labOnly) {
  if (!requireAll) process.stderr.write(`\n*** SKIPPED, ${labOnly} ***\n`);
  describe.skip(`${TITLE} [missing: ${labOnly}]`, onTheLab);
} else {
  describeNeeding(NEEDS, TITLE, onTheLab);
}

function onTheLab(): void {
  let lab: Lab;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    lab = await Lab.up({ switches: 2, hosts: 2, consolePort: 0 });
    browser = await launchChromium(undefined, { selfSignedServer: true });
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
    await expect
      .poll(() => topology.getAttribute("aria-label"), {
        message: "both agents online with one host each in the drawing",
        timeout: 30_000,
      })
      .toMatch(/a: agent online, 1 host; b: agent online, 1 host/);
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
    await lab.api.post(`/api/hosts/${host1.id}/kill-session`, { nextRemote: true });
    await expect.poll(switchCell, { message: "host1 shown on switch b", timeout: 30_000 }).toBe("b");
    await row.getByText("online").waitFor();
    await screenshot(page, "lab-hosts-moved");
  });

  it("shows a host going offline when its OpenVPN stops, and online again when it comes back", async () => {
    const host2 = lab.host("host2");
    await page.getByTestId("host-search").fill("host2");
    const row = page.getByTestId("hosts-table").getByRole("row", { name: /host2/ });
    await row.getByText("online").waitFor();
    await lab.stopHost(host2);
    // Generous bounds: they catch a page that never updates, not a slow one.
    await row.getByText("offline").waitFor({ timeout: 30_000 });
    await lab.restartHost(host2);
    await row.getByText("online").waitFor({ timeout: 30_000 });
  });
}

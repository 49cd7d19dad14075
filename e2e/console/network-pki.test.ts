import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeNeeding } from "@switchboard/testkit/needs";
import { seedNetwork } from "@switchboard/testkit/network-fixture";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type Browser, launchChromium } from "./support/chromium.ts";
import { type ConsoleServer, startConsoleServer } from "./support/console-server.ts";
import { coveredBy, field, fieldError, overlap, screenshot, signIn } from "./support/page-helpers.ts";

interface Certificate {
  id: string;
  commonName: string;
  serial: string;
  revokedAt: string | null;
  revocationReason: string | null;
}

describeNeeding(["chromium"], "console in Chromium: a network's page, its PKI, renewing certificates", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  const certificates = new Map<string, Certificate>();
  const tmp = mkdtempSync(join(tmpdir(), "sb-e2e-pki-"));

  beforeAll(async () => {
    server = await startConsoleServer();
    const branch = await seedNetwork(server.post, {
      name: "branch",
      dataSubnet: "10.80.0.0/24",
      backboneSubnet: "10.81.0.0/24",
      description: "the branch office",
      switches: ["br-1", "br-2"],
      hosts: ["laptop-1", "laptop-2", "printer-1"],
    });
    for (const [i, commonName] of ["laptop-1", "laptop-2"].entries()) {
      const hostId = branch.hostIds[i];
      certificates.set(commonName, await server.api<Certificate>("POST", `/api/hosts/${hostId}/certificate`, {}));
    }
    // Another network's switches and hosts must not show on this one's page.
    await seedNetwork(server.post, { name: "elsewhere", switches: ["far-1"], hosts: ["far-host"] });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    await signIn(page, server.base);
  });
  afterEach(async (context) => {
    if (context.task.result?.state === "fail" && page) {
      await screenshot(page, `failed-pki-${context.task.name.slice(0, 30).replace(/[^a-z0-9]+/gi, "-")}`);
      await page.keyboard.press("Escape");
    }
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("opens a network from the list: its settings, PKI summary, own switches and hosts, and its CRL", async () => {
    await page.getByRole("link", { name: "Networks" }).click();
    await page.getByTestId("networks-table").getByRole("link", { name: "branch" }).click();
    await page.getByRole("heading", { name: "branch", level: 2 }).waitFor();
    const settings = page.getByTestId("network-settings");
    expect(await settings.locator('[data-setting="Data subnet"]').textContent()).toBe("10.80.0.0/24");
    expect(await settings.locator('[data-setting="Transport"]').textContent()).toBe("UDP 1194");
    const pki = page.getByTestId("network-pki");
    await pki.getByTestId("pki-ca").waitFor();
    expect(await pki.getByTestId("pki-crl").textContent()).toMatch(/^number \d+, next update /);
    expect(await pki.getByTestId("pki-tls-crypt").textContent()).toBe("present");

    const switches = page.getByTestId("network-switches");
    await switches.getByRole("link", { name: "br-1" }).waitFor();
    expect(await switches.getByRole("link").allTextContents()).toEqual(["br-1", "br-2"]);
    await page.locator('[data-host="printer-1"]').waitFor();
    expect(await page.getByTestId("network-hosts-count").textContent()).toBe("3 hosts, 0 online");
    expect(await page.locator('[data-host="far-host"]').count()).toBe(0);
    await screenshot(page, "19-network-detail");

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-crl").click()]);
    expect(download.suggestedFilename()).toBe("branch-crl.pem");
    const path = join(tmp, "branch-crl.pem");
    await download.saveAs(path);
    expect(readFileSync(path, "utf8")).toContain("-----BEGIN X509 CRL-----");

    // A host's name opens it on the hosts page.
    await page.locator('[data-host="laptop-1"]').getByRole("button", { name: "laptop-1" }).click();
    await page.getByRole("dialog", { name: "laptop-1" }).waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("link", { name: "Networks" }).click();
    await page.getByTestId("networks-table").getByRole("link", { name: "branch" }).click();
    await page.getByRole("heading", { name: "branch", level: 2 }).waitFor();
  });

  it("rotates the tls-crypt key after a confirm that says every profile must be downloaded again", async () => {
    const revision = page.getByTestId("network-settings").locator('[data-setting="Revision"]');
    const before = Number(await revision.textContent());
    await page.getByRole("button", { name: "Rotate tls-crypt key" }).click();
    const confirm = page.getByRole("dialog", { name: "Rotate the tls-crypt key of branch?" });
    expect(await confirm.textContent()).toContain("Every host profile must be downloaded again");
    await screenshot(page, "20-tls-crypt-confirm");
    // Cancel changes nothing.
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await confirm.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Rotate tls-crypt key" }).click();
    await confirm.getByRole("button", { name: "Rotate key" }).click();
    await confirm.waitFor({ state: "hidden" });
    await page.locator(".mantine-Modal-overlay").waitFor({ state: "detached" });
    await expect
      .poll(async () => Number(await revision.textContent()), { message: "the new revision shown", timeout: 15_000 })
      .toBe(before + 1);
    const audit = await server.api<{ items: { action: string }[] }>(
      "GET",
      "/api/audit?action=network.tls-crypt.rotate",
    );
    expect(audit.items).toHaveLength(1);

    // The notification says what to do next, leaves the page's actions usable, and goes by itself.
    const toast = notification(page, "New tls-crypt key for branch");
    await toast.waitFor();
    // The page's own actions, and the header's user menu at the very top right.
    const actions = {
      "Edit network": page.getByRole("button", { name: "Edit network" }),
      "Rotate tls-crypt key": page.getByRole("button", { name: "Rotate tls-crypt key" }),
      "the user menu": page.getByTestId("user-menu"),
    };
    for (const [name, button] of Object.entries(actions)) {
      expect(await coveredBy(button), `${name} covered`).toBeNull();
      expect(await overlap(toast, button), `the notification over ${name}`).toBe(false);
    }
    // It closes by itself (after a few seconds); the bound only catches one that never does.
    await toast.waitFor({ state: "detached", timeout: 30_000 });
  });

  it("renews a certificate: the API's validation at the field, its refusal in the dialog, then the renewal", async () => {
    await page.getByRole("link", { name: "Certificates" }).click();
    await page.getByText("All", { exact: true }).click();
    const table = page.getByTestId("certificates-table");
    await table
      .locator('[data-cn="laptop-1"]')
      .getByRole("button", { name: "Renew the certificate of laptop-1" })
      .click();
    const dialog = page.getByRole("dialog", { name: "Renew the certificate of laptop-1?" });
    expect(await dialog.textContent()).toContain("revoked as superseded");
    await field(dialog, "Validity (days)").fill("5000");
    await dialog.getByRole("button", { name: "Renew certificate" }).click();
    expect(await fieldError(field(dialog, "Validity (days)"))).toContain("3650");
    await screenshot(page, "27-renew-validation");

    // Revoked elsewhere while the dialog is open: the API refuses and the dialog says why.
    const laptop1 = certificates.get("laptop-1") as Certificate;
    await server.api("POST", `/api/certificates/${laptop1.id}/revoke`, { reason: "keyCompromise" });
    await field(dialog, "Validity (days)").fill("30");
    await dialog.getByRole("button", { name: "Renew certificate" }).click();
    const refusal = dialog.getByTestId("renew-error");
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("is revoked; issue a new one for its holder instead");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    await table
      .locator('[data-cn="laptop-1"]')
      .getByText(/revoked/)
      .waitFor();

    const laptop2 = certificates.get("laptop-2") as Certificate;
    await table
      .locator('[data-cn="laptop-2"]')
      .getByRole("button", { name: "Renew the certificate of laptop-2" })
      .click();
    const renew = page.getByRole("dialog", { name: "Renew the certificate of laptop-2?" });
    await field(renew, "Validity (days)").fill("90");
    await renew.getByRole("button", { name: "Renew certificate" }).click();
    await renew.waitFor({ state: "hidden" });
    await page.locator(".mantine-Modal-overlay").waitFor({ state: "detached" });
    // The header's actions, where a person looks after renewing from a row far down the list.
    await page.evaluate(() => window.scrollTo(0, 0));
    const toast = notification(page, "New certificate for laptop-2");
    await toast.waitFor();
    expect(await toast.textContent()).toContain("download its profile again");
    const downloadCrl = page.getByRole("button", { name: "Download CRL" });
    expect(await coveredBy(downloadCrl)).toBeNull();
    expect(await overlap(toast, downloadCrl), "the notification over Download CRL").toBe(false);
    expect(await overlap(toast, page.getByTestId("user-menu")), "the notification over the user menu").toBe(false);
    await screenshot(page, "28-certificate-renewed");

    const after = await server.api<{ items: Certificate[] }>("GET", "/api/certificates?kind=client&state=all");
    const old = after.items.find((c) => c.id === laptop2.id);
    const fresh = after.items.find((c) => c.commonName === "laptop-2" && c.revokedAt === null);
    expect(old?.revocationReason).toBe("superseded");
    expect(fresh?.serial).not.toBe(laptop2.serial);
    await table.locator('[data-cn="laptop-2"]', { hasText: "superseded" }).waitFor();
    await toast.waitFor({ state: "detached", timeout: 30_000 });
  });
});

function notification(page: Page, text: string): Locator {
  return page.locator(".mantine-Notification-root", { hasText: text });
}

import { describeNeeding } from "@switchboard/testkit/needs";
import { seedNetwork } from "@switchboard/testkit/network-fixture";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { type Browser, launchChromium } from "./support/chromium.ts";
import { type ConsoleServer, startConsoleServer } from "./support/console-server.ts";
import { field, requestFromPage, screenshot, signIn, signOut } from "./support/page-helpers.ts";

const USERS = {
  viewer: { username: "vera", password: "viewer password 1", role: "viewer" },
  operator: { username: "otto", password: "operator password 1", role: "operator" },
  auditor: { username: "aude", password: "auditor password 1", role: "auditor" },
  admin: { username: "adam", password: "second admin password 1", role: "admin" },
} as const;

/** Buttons that change something; which of them a role sees is what this file checks. */
const CHANGE_BUTTONS = [
  "New network",
  "New switch",
  "New host",
  "Import CSV",
  "Edit network",
  "Rotate tls-crypt key",
  "Download profile",
  "Delete host",
  "Issue certificate",
  "Rotate certificate",
  "Revoke",
  "Renew",
  "New user",
];

describeNeeding(["chromium"], "console in Chromium: what each role sees and may do", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let networkId: string;
  let hostId: string;
  let certificateId: string;
  const userIds = new Map<string, string>();

  beforeAll(async () => {
    server = await startConsoleServer();
    const seeded = await seedNetwork(server.post, {
      name: "plant",
      switches: [{ name: "plant-1", endpointHost: "plant.example.net" }],
      hosts: ["press-1", "press-2"],
    });
    networkId = seeded.networkId;
    [hostId] = seeded.hostIds as [string];
    ({ id: certificateId } = await server.api<{ id: string }>("POST", `/api/hosts/${hostId}/certificate`, {}));
    await server.api("POST", `/api/hosts/${seeded.hostIds[1]}/certificate`, {});
    for (const [key, user] of Object.entries(USERS)) {
      userIds.set(key, (await server.api<{ id: string }>("POST", "/api/users", user)).id);
    }
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
  });
  // Each test signs in as its own user on a signed-out page, whatever the test before left.
  beforeEach(async () => {
    await browser.context.clearCookies();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === "fail" && page) {
      await screenshot(page, `failed-roles-${context.task.name.slice(0, 30).replace(/[^a-z0-9]+/gi, "-")}`);
      await page.keyboard.press("Escape");
    }
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The change buttons visible on the page now (after its lists have loaded). */
  async function changeButtons(): Promise<string[]> {
    const seen: string[] = [];
    for (const name of CHANGE_BUTTONS) {
      // "Renew" also matches "Renew the certificate of press-1" (a row's button names its row).
      if ((await page.getByRole("button", { name: new RegExp(`^${name}( |$)`) }).count()) > 0) seen.push(name);
    }
    return seen;
  }

  async function navLinks(): Promise<string[]> {
    return page.getByRole("navigation", { name: "Main" }).getByRole("link").allTextContents();
  }

  it("a viewer sees every list but no button that changes anything, and the API refuses when forced", async () => {
    await signIn(page, server.base, USERS.viewer);
    expect(await navLinks()).toEqual(["Overview", "Networks", "Switches", "Hosts", "Certificates", "Change password"]);

    await page.getByRole("link", { name: "Networks" }).click();
    await page.getByTestId("networks-table").getByRole("link", { name: "plant" }).click();
    await page.getByTestId("network-pki").getByTestId("pki-ca").waitFor();
    await page.getByTestId("network-switches").getByText("plant-1").waitFor();
    expect(await changeButtons(), "network page").toEqual([]);
    await page.getByTestId("download-crl").waitFor();

    await page.getByRole("link", { name: "Switches" }).click();
    await page.getByTestId("switches-table").getByRole("link", { name: "plant-1" }).waitFor();
    expect(await changeButtons(), "switches page").toEqual([]);

    await page.getByRole("link", { name: "Hosts" }).click();
    await page.locator('[data-host="press-1"]').getByRole("button", { name: "press-1" }).click();
    const drawer = page.getByRole("dialog", { name: "press-1" });
    await drawer.getByTestId("host-certificates").waitFor();
    expect(await changeButtons(), "host drawer").toEqual([]);
    await screenshot(page, "23-viewer-host");
    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "hidden" });

    await page.getByRole("link", { name: "Certificates" }).click();
    await page.getByText("All", { exact: true }).click();
    await page.getByTestId("certificates-table").locator('[data-cn="press-1"]').waitFor();
    expect(await changeButtons(), "certificates page").toEqual([]);
    await screenshot(page, "24-viewer-certificates");

    // What the console hides, the API refuses: the viewer's own session, with its CSRF token.
    const forced = [
      await requestFromPage(page, "POST", "/api/hosts", { networkId, commonName: "forced" }),
      await requestFromPage(page, "DELETE", `/api/hosts/${hostId}`),
      await requestFromPage(page, "POST", `/api/certificates/${certificateId}/revoke`, { reason: "keyCompromise" }),
      await requestFromPage(page, "POST", `/api/networks/${networkId}/tls-crypt/rotate`),
    ];
    for (const answer of forced) {
      expect(answer.status).toBe(403);
      expect(answer.message).toMatch(/^role viewer may not do this/);
    }
    const hosts = await server.api<{ items: { commonName: string }[] }>("GET", "/api/hosts");
    expect(hosts.items.map((h) => h.commonName).sort()).toEqual(["press-1", "press-2"]);
    await signOut(page);
  });

  it("an operator creates a host and revokes a certificate, but cannot manage users or networks", async () => {
    await signIn(page, server.base, USERS.operator);
    expect(await navLinks()).toEqual(["Overview", "Networks", "Switches", "Hosts", "Certificates", "Change password"]);

    await page.getByRole("link", { name: "Hosts" }).click();
    await page.locator('[data-host="press-1"]').waitFor();
    expect(await changeButtons()).toEqual(["New host", "Import CSV"]);
    await page.getByRole("button", { name: "New host" }).click();
    const dialog = page.getByRole("dialog", { name: "New host" });
    await field(dialog, "Network").click();
    await page.getByRole("option", { name: /plant/ }).click();
    await field(dialog, "Common name").fill("press-3");
    await dialog.getByRole("button", { name: "Create host" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.locator('[data-host="press-3"]').waitFor();

    await page.getByRole("link", { name: "Certificates" }).click();
    await page.getByText("All", { exact: true }).click();
    const row = page.getByTestId("certificates-table").locator('[data-cn="press-1"]');
    await row.waitFor();
    expect(await changeButtons(), "certificates page").toEqual(["Revoke", "Renew"]);
    // A switch's certificate is an admin's: no button here, and the API refuses when forced.
    const switchRow = page.getByTestId("certificates-table").locator('[data-cn^="server."]');
    await switchRow.waitFor();
    expect(await switchRow.getByRole("button").count(), "buttons on the switch's certificate").toBe(0);
    const serverCert = (
      await server.api<{ items: { id: string }[] }>("GET", `/api/certificates?networkId=${networkId}&kind=server`)
    ).items[0];
    const forcedRenewal = await requestFromPage(page, "POST", `/api/certificates/${serverCert?.id}/renew`, {});
    expect(forcedRenewal.status).toBe(403);
    expect(forcedRenewal.message).toMatch(/^role operator may not renew a server certificate/);
    await row.getByRole("button", { name: "Revoke" }).click();
    const confirm = page.getByRole("dialog", { name: /Revoke the certificate of press-1/ });
    await confirm.getByRole("button", { name: "Revoke" }).click();
    await row.getByText(/revoked/).waitFor();
    await screenshot(page, "25-operator-certificates");

    await page.getByRole("link", { name: "Networks" }).click();
    await page.getByTestId("networks-table").getByRole("link", { name: "plant" }).click();
    await page.getByTestId("pki-ca").waitFor();
    expect(await changeButtons(), "network page").toEqual([]);

    await page.goto(`${server.base}/account/users`);
    await page.getByText("Only administrators manage users.").waitFor();
    const forced = await requestFromPage(page, "POST", "/api/users", {
      username: "mallory",
      password: "a long password 1",
      role: "admin",
    });
    expect(forced.status).toBe(403);
    expect(forced.message).toMatch(/^role operator may not do this/);
    await signOut(page);
  });

  it("an auditor reads the audit log, with who did what, and changes nothing", async () => {
    await signIn(page, server.base, USERS.auditor);
    expect(await navLinks()).toContain("Audit log");
    expect(await navLinks()).not.toContain("Users");
    await page.getByRole("link", { name: "Audit log" }).click();
    const audit = page.getByTestId("audit-table");
    const revoke = audit.locator("tr", { hasText: "certificate.revoke" });
    await revoke.waitFor();
    expect(await revoke.textContent()).toContain(USERS.operator.username);
    expect(await audit.locator("tr", { hasText: "host.create" }).count()).toBe(3);
    await screenshot(page, "26-auditor-audit");

    await page.getByRole("link", { name: "Hosts" }).click();
    await page.locator('[data-host="press-3"]').waitFor();
    expect(await changeButtons()).toEqual([]);
    const forced = await requestFromPage(page, "POST", "/api/hosts", { networkId, commonName: "forced" });
    expect(forced.status).toBe(403);
  });

  it("an admin demoted while a confirm is open sees the API's refusal in the dialog", async () => {
    await signIn(page, server.base, USERS.admin);
    await page.getByRole("link", { name: "Networks" }).click();
    await page.getByTestId("networks-table").getByRole("link", { name: "plant" }).click();
    await page.getByRole("button", { name: "Rotate tls-crypt key" }).click();
    const confirm = page.getByRole("dialog", { name: "Rotate the tls-crypt key of plant?" });
    await confirm.waitFor();
    // Another administrator makes adam a viewer meanwhile.
    await server.api("PATCH", `/api/users/${userIds.get("admin")}`, { role: "viewer" });
    await confirm.getByRole("button", { name: "Rotate key" }).click();
    const refusal = confirm.getByTestId("confirm-error");
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("role viewer may not do this: it needs admin");
    await screenshot(page, "29-confirm-refused");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await confirm.waitFor({ state: "hidden" });
    const audit = await server.api<{ items: unknown[] }>("GET", "/api/audit?action=network.tls-crypt.rotate");
    expect(audit.items).toHaveLength(0);
  });
});

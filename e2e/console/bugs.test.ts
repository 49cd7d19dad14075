import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeNeeding } from "@switchboard/testkit/needs";
import { seedNetwork } from "@switchboard/testkit/network-fixture";
import { setupTokenOf, startServer } from "@switchboard/testkit/server-process";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type Browser, launchChromium } from "./support/chromium.ts";
import { type ConsoleServer, startConsoleServer } from "./support/console-server.ts";
import { field, screenshot, signIn } from "./support/page-helpers.ts";

/** Issue 18's console bugs, each as a person meets it (each test failed before its fix). */
describeNeeding(["chromium"], "console in Chromium: issue 18's bugs stay fixed", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  /** Uncaught errors of the page (a blanked console logs one). */
  const pageErrors: string[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "sb-e2e-bugs-"));

  beforeAll(async () => {
    server = await startConsoleServer();
    await seedNetwork(server.post, {
      name: "plant",
      switches: [
        { name: "plant-1", endpointHost: "plant.example.net" },
        { name: "plant-2", endpointHost: "plant2.example.net" },
      ],
      hosts: ["press-1", "press-2"],
    });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await signIn(page, server.base);
  });
  afterEach(async (context) => {
    if (context.task.result?.state === "fail" && page) {
      await screenshot(page, `failed-bugs-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`);
      await page.keyboard.press("Escape");
    }
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("filters the audit log as each character is typed, without blanking the console", async () => {
    await page.goto(`${server.base}/audit`);
    await page.getByTestId("audit-table").getByText("host.create").first().waitFor();
    pageErrors.length = 0;
    for (const label of ["Action", "Target type", "Actor"]) {
      await field(page, label).pressSequentially("h");
      await expect.poll(() => field(page, label).inputValue(), { timeout: 10_000 }).toBe("h");
      await field(page, label).fill("");
    }
    await field(page, "Action").pressSequentially("host.create");
    await field(page, "From").fill("2020-01-01T00:00");
    // Only host.create rows are left (the API matches the action exactly), once the debounced
    // filter has reached it.
    await expect
      .poll(async () => new Set(await page.getByTestId("audit-table").locator("code").allTextContents()), {
        timeout: 15_000,
      })
      .toEqual(new Set(["host.create"]));
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("shows a page that fails to render as a readable message with a way back, the rest of the console still working", async () => {
    // An answer the page cannot draw (a target id that is not a string), as a broken proxy or a
    // newer API could send: the page fails, not the console.
    await page.route("**/api/audit?**", (route) =>
      route.fulfill({
        contentType: "application/json",
        body: JSON.stringify({
          items: [
            {
              id: "e1",
              at: new Date().toISOString(),
              actorName: "x",
              actorType: "user",
              action: "a",
              targetType: "host",
              targetId: 5,
            },
          ],
          nextCursor: null,
        }),
      }),
    );
    try {
      await page.goto(`${server.base}/audit`);
      const failed = page.getByTestId("page-error");
      await failed.getByText("This page ran into a problem").waitFor();
      expect(await failed.textContent()).toMatch(/slice is not a function/);
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Hosts" }).waitFor();
      await screenshot(page, "bugs-page-error");
      await failed.getByRole("link", { name: "Go to the overview" }).click();
      await page.getByRole("heading", { name: "Overview" }).waitFor();
      expect(await failed.count()).toBe(0);
    } finally {
      await page.unroute("**/api/audit?**");
    }
  });

  it("gives a never-enrolled switch a join with the whole enroll command, and offers Revoke agent only once enrolled", async () => {
    await page.goto(`${server.base}/switches`);
    const join = page.getByTestId("join-plant-1");
    await join.waitFor();
    expect((await page.locator("tr", { has: join }).locator("td").nth(5).textContent())?.replace(/\s+/g, " ")).toBe(
      "not enrolled — join",
    );
    await join.getByRole("button", { name: "Join plant-1: enroll its agent" }).click();
    const dialog = page.getByRole("dialog", { name: "Join plant-1" });
    const command = (await dialog.getByTestId("secret-value").textContent()) ?? "";
    // Plain HTTP on loopback: no certificate of its own, so no pin (tls.test.ts covers --fingerprint).
    expect(command).toMatch(
      new RegExp(
        `^switchboard-agent enroll --api ${server.base} --token sbe_[A-Za-z0-9_-]{43} && systemctl enable --now switchboard-agent$`,
      ),
    );
    await screenshot(page, "bugs-join-command");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });

    await page.getByTestId("switches-table").getByRole("link", { name: "plant-1" }).click();
    await page.getByRole("heading", { name: "plant-1" }).waitFor();
    await page.getByRole("button", { name: "Enroll agent" }).waitFor();
    expect(await page.getByRole("button", { name: "Revoke agent" }).count()).toBe(0);

    // The agent enrolls with the command's token, as `switchboard-agent enroll` would.
    const token = /--token (\S+)/.exec(command)?.[1];
    const enrolled = await fetch(`${server.base}/api/agent/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    expect(enrolled.status, await enrolled.text()).toBe(200);
    await page.reload();
    await page.getByRole("button", { name: "Revoke agent" }).waitFor();
    await page.getByRole("button", { name: "New enrollment token" }).waitFor();
  });

  it("reports every bad row of a CSV import at once, each row named once, then shows the result and refuses a second import of the file", async () => {
    const bad = join(tmp, "bad.csv");
    // Row 1 breaks the schema, row 2 the network (press-1 exists), row 3 both the schema and the file
    // (a name already in row 1 would be the second kind; its address is the first).
    writeFileSync(bad, "commonName,address\nbad name!,\npress-1,\nline-3,10.0.0.999\n");
    await page.goto(`${server.base}/hosts`);
    await page.getByRole("button", { name: "Import CSV" }).click();
    const dialog = page.getByRole("dialog", { name: "Import hosts" });
    await dialog.locator('input[type="file"]').setInputFiles(bad);
    await dialog.getByRole("button", { name: "Import" }).click();
    const report = dialog.getByTestId("import-errors");
    await report.waitFor();
    const rows = await report.getByTestId("import-error-row").allTextContents();
    expect(rows.map((row) => row.replace(/\s+/g, " ").trim())).toEqual([
      expect.stringMatching(/^row 1 \(line 2\)commonName must /),
      "row 2 (line 3)commonName is already used by another host in this network",
      expect.stringMatching(/^row 3 \(line 4\)address must /),
    ]);
    expect(await report.textContent()).not.toMatch(/hosts\.\d/);
    expect(await report.textContent()).toContain("3 problems in 3 rows");
    await screenshot(page, "bugs-import-every-row");

    const one = join(tmp, "one-bad.csv");
    writeFileSync(one, "commonName\npress-2\n");
    await dialog.locator('input[type="file"]').setInputFiles(one);
    await dialog.getByRole("button", { name: "Import" }).click();
    await report.getByText("1 problem in 1 row;").waitFor();

    const good = join(tmp, "good.csv");
    writeFileSync(good, "commonName\nlathe-1\n");
    await dialog.locator('input[type="file"]').setInputFiles(good);
    await dialog.getByRole("button", { name: "Import" }).click();
    await dialog.getByTestId("import-done").getByText("Imported 1 host.").waitFor();
    // The dialog stays with its result; the same file cannot go in twice by a second click.
    expect(await dialog.getByRole("button", { name: "Import" }).isDisabled()).toBe(true);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await page.locator('[data-host="lathe-1"]').waitFor();
  });

  it("opens the certificates page saying none expire within 30 days, with the totals, and names each holder", async () => {
    await page.goto(`${server.base}/certificates`);
    await page.getByTestId("empty-state").getByText("None expiring within 30 days.").waitFor();
    expect(await page.getByText("No certificates yet.").count()).toBe(0);
    const totals = (await page.getByTestId("certificate-totals").textContent()) ?? "";
    const active = Number(/^(\d+) in force/.exec(totals)?.[1]);
    // The CA, and each switch's server and backbone certificates at least.
    expect(active, totals).toBeGreaterThanOrEqual(5);
    expect(totals).toContain("0 of them expiring within 30 days; 0 revoked.");
    await screenshot(page, "bugs-certificates-default");
    await page
      .getByTestId("empty-state")
      .getByRole("button", { name: `Show all ${active}` })
      .click();
    await page.getByTestId("certificate-holder").getByText("CA · plant").waitFor();
    const holders = await page.getByTestId("certificate-holder").allTextContents();
    expect(holders).toHaveLength(active);
    expect(holders).toContain("CA · plant");
    expect(holders).toContain("switch plant-1 · plant");
    expect(holders).toContain("switch plant-2 · plant");
    expect(holders.filter((h) => /server\.|[0-9a-f]{8}-/.test(h))).toEqual([]);
  });

  it("gives host-name buttons in the hosts table a visible keyboard focus", async () => {
    await page.goto(`${server.base}/hosts`);
    const name = page.locator('[data-host="press-2"]').getByRole("button", { name: "press-2" });
    await name.waitFor();
    // Reached by the keyboard, as a person tabbing through the table would.
    await name.focus();
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Tab");
    const focus = await name.evaluate((button) => {
      const style = getComputedStyle(button);
      return { visible: button.matches(":focus-visible"), outline: `${style.outlineStyle} ${style.outlineWidth}` };
    });
    expect(focus).toEqual({ visible: true, outline: "solid 2px" });
  });

  it("takes a setup token added to the URL in the same tab", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sb-e2e-setup-"));
    const fresh = startServer({ DATA_DIR: dataDir });
    // A browser of its own: cookies are per host, not per port, so this server's session would
    // replace the signed-in one of the other tests on 127.0.0.1.
    const own = await launchChromium();
    const setupPage = await own.context.newPage();
    try {
      const base = (await fresh.ready).replace(/\/$/, "");
      const token = await setupTokenOf(fresh);
      await setupPage.goto(`${base}/setup`);
      await setupPage.getByText("This page needs the one-time link").waitFor();
      // The person pastes the printed link's fragment into the address bar: only the hash changes.
      await setupPage.evaluate((value) => {
        window.location.hash = `token=${value}`;
      }, token);
      await field(setupPage, "Password").fill("first admin password 1");
      await setupPage.getByRole("button", { name: "Create administrator" }).click();
      await setupPage.getByRole("heading", { name: "Overview" }).waitFor();
    } finally {
      await own.close();
      await fresh.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("shows the API's validation at a form field as a sentence about the input", async () => {
    await page.goto(`${server.base}/account/users`);
    await page.getByRole("button", { name: "New user" }).click();
    const dialog = page.getByRole("dialog", { name: "New user" });
    await field(dialog, "Username").fill("vera");
    // Past the browser's own checks (required), to the API's rule.
    await field(dialog, "Password").fill("short");
    await dialog.getByRole("button", { name: "Create user" }).click();
    // Mantine's PasswordInput keeps aria-invalid on its wrapper, so the message is found by its text.
    await dialog.getByText("must be at least 12 characters long", { exact: true }).waitFor();
    expect(await dialog.getByText(/must NOT|fewer than/).count()).toBe(0);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
  });

  it("shows a network's subnets read-only with the reason while it has switches and hosts", async () => {
    await page.goto(`${server.base}/networks`);
    await page.getByTestId("networks-table").getByRole("link", { name: "plant" }).click();
    await page.getByRole("button", { name: "Edit network" }).click();
    const dialog = page.getByRole("dialog");
    for (const label of ["Data subnet", "Backbone subnet"]) {
      const input = field(dialog, label);
      await input.waitFor();
      expect(await input.isEditable(), label).toBe(false);
    }
    // Two hosts seeded, a third when the import test ran before.
    await dialog
      .getByText(/^Fixed while the network has 2 switches and [23] hosts with addresses in it$/)
      .first()
      .waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
  });
});

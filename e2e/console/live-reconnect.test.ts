import { describeNeeding } from "@switchboard/testkit/needs";
import { seedNetwork } from "@switchboard/testkit/network-fixture";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { type Browser, launchChromium } from "./support/chromium.ts";
import { type ConsoleServer, startConsoleServer } from "./support/console-server.ts";
import { screenshot, signIn } from "./support/page-helpers.ts";

describeNeeding(["chromium"], "console in Chromium: the live feed across an API restart", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let networkId: string;
  /** While false, the console's attempts to open the live socket are turned away (see the test). */
  let letSocketsThrough = true;
  /** Attempts of `page` to open its live socket that were turned away. */
  let heldBack = 0;

  beforeAll(async () => {
    server = await startConsoleServer();
    ({ networkId } = await seedNetwork(server.post, { name: "hq", hosts: ["before-restart"] }));
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    // Every live socket of the page passes through here: straight to the API, unless held back.
    await page.routeWebSocket(/\/api\/live$/, (socket) => {
      if (letSocketsThrough) socket.connectToServer();
      else {
        heldBack += 1;
        socket.close({ code: 1013, reason: "held back by the test" });
      }
    });
  });
  afterEach(async (context) => {
    if (context.task.result?.state === "fail" && page) await screenshot(page, "failed-live-reconnect");
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows reconnecting while the API restarts, then live again, and refetches a host created meanwhile without a reload", async () => {
    await signIn(page, server.base);
    const status = page.getByTestId("live-status");
    await status.and(page.locator('[data-status="open"]')).waitFor();
    await page.getByRole("link", { name: "Hosts" }).click();
    await page.locator('[data-host="before-restart"]').waitFor();
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });

    // The API goes away (a deploy): the socket drops and the header says so.
    letSocketsThrough = false;
    await server.restart(async () => {
      await status.and(page.locator('[data-status="reconnecting"]')).waitFor();
      expect(await status.textContent()).toBe("reconnecting");
      await screenshot(page, "21-live-reconnecting");
    });

    // A second console, whose socket is not held back, connects to the new process: the proof
    // that the API published the next host on its feed. The first console's socket is still held
    // off, so the feed cannot tell it about that host: only the refetch after reconnecting can.
    const observer = await browser.context.newPage();
    try {
      await observer.goto(`${server.base}/hosts`);
      await observer.getByTestId("live-status").and(observer.locator('[data-status="open"]')).waitFor();
      await observer.locator('[data-host="before-restart"]').waitFor();
      const attemptsBefore = heldBack;
      await server.api("POST", "/api/hosts", { networkId, commonName: "made-while-down" });
      await observer.locator('[data-host="made-while-down"]').waitFor();
      // ...and the first console went on trying (and being turned away) after the host was made:
      // it was running, not frozen, while it did not show the host.
      await expect
        .poll(() => heldBack, { message: "another held-back reconnect attempt", timeout: 30_000 })
        .toBeGreaterThan(attemptsBefore);
    } finally {
      await observer.close();
    }
    expect(await page.locator('[data-host="made-while-down"]').count(), "no reload, no feed: not shown yet").toBe(0);
    expect(await status.getAttribute("data-status")).toBe("reconnecting");

    letSocketsThrough = true;
    // The backoff after a few failed attempts is several seconds (capped at 15 s); generous bounds.
    await status.and(page.locator('[data-status="open"]')).waitFor({ timeout: 45_000 });
    await page.locator('[data-host="made-while-down"]').waitFor();
    expect(await status.textContent()).toBe("live");
    expect(await page.getByTestId("hosts-count").textContent()).toBe("2 of 2");
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await screenshot(page, "22-live-reconnected");
  });
});

import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium, launchChromium, reportMissingChromium } from "./support/chromium.ts";
import { type ConsoleServer, startConsoleServer } from "./support/console-server.ts";
import { screenshot, signIn } from "./support/page-helpers.ts";

reportMissingChromium();

describe.skipIf(!hasChromium)(
  "console in Chromium (needs /usr/bin/chromium): the live feed across an API restart",
  () => {
    let server: ConsoleServer;
    let browser: Browser;
    let page: Page;
    let networkId: string;
    /** While false, the console's attempts to open the live socket are turned away (see the test). */
    let letSocketsThrough = true;

    beforeAll(async () => {
      server = await startConsoleServer();
      ({ id: networkId } = await server.api<{ id: string }>("POST", "/api/networks", {
        name: "hq",
        dataSubnet: "10.60.0.0/24",
        backboneSubnet: "10.61.0.0/24",
      }));
      await server.api("POST", "/api/hosts", { networkId, commonName: "before-restart" });
      browser = await launchChromium();
      page = await browser.context.newPage();
      page.setDefaultTimeout(15_000);
      // Every live socket of the page passes through here: straight to the API, unless held back.
      await page.routeWebSocket(/\/api\/live$/, (socket) => {
        if (letSocketsThrough) socket.connectToServer();
        else socket.close({ code: 1013, reason: "held back by the test" });
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
        await status.and(page.locator('[data-status="reconnecting"]')).waitFor({ timeout: 5000 });
        expect(await status.textContent()).toBe("reconnecting");
        await screenshot(page, "21-live-reconnecting");
      });
      // The new process is up; the console's socket is still held off, so the feed cannot tell it
      // about this host: only the refetch after reconnecting can.
      await server.api("POST", "/api/hosts", { networkId, commonName: "made-while-down" });
      await page.waitForTimeout(300);
      expect(await page.locator('[data-host="made-while-down"]').count(), "no reload, no feed: not shown yet").toBe(0);
      expect(await status.getAttribute("data-status")).toBe("reconnecting");

      letSocketsThrough = true;
      const started = Date.now();
      // The backoff after a few failed attempts is several seconds (capped at 15 s).
      await status.and(page.locator('[data-status="open"]')).waitFor({ timeout: 20_000 });
      await page.locator('[data-host="made-while-down"]').waitFor({ timeout: 5000 });
      process.stdout.write(
        `live: reconnected and refetched ${Date.now() - started} ms after the socket was let through\n`,
      );
      expect(await status.textContent()).toBe("live");
      expect(await page.getByTestId("hosts-count").textContent()).toBe("2 of 2");
      expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
      await screenshot(page, "22-live-reconnected");
    });
  },
);

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumPath } from "@switchboard/testkit/env";
import { type BrowserContext, chromium } from "playwright-core";

/**
 * Debian's Chromium: CHROMIUM_PATH, else `chromium` on PATH. Tests that need it declare it
 * (`describeNeeding(["chromium"], ...)`), which skips them with the reason in their name.
 */
export const CHROMIUM = chromiumPath() ?? process.env.CHROMIUM_PATH ?? "chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's Chromium with a fresh profile, 1280 px wide (the console's target width). */
export async function launchChromium(
  viewport = { width: 1280, height: 860 },
  options: { selfSignedServer?: boolean } = {},
): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), "sb-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
    acceptDownloads: true,
    // The lab's API serves HTTPS with its own self-signed certificate: a person clicks through the
    // warning once; the browser test does the same (agents pin it; tls.test.ts proves the pin).
    ...(options.selfSignedServer ? { ignoreHTTPSErrors: true } : {}),
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

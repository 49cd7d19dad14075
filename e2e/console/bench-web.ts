// pnpm bench:web — the hosts page with 10,000 hosts in Debian's Chromium, against the real API
// (own process, fresh embedded database, hosts seeded with one POST /api/hosts/import).
// The console marks the moments itself (performance.mark):
//   first render: sb:hosts-data (all pages of the list in hand) -> sb:hosts-painted (table painted)
//   filter:       sb:filter-input (a keystroke in the search box) -> sb:hosts-filtered (table painted)
// Last line: web: first-render <ms> ms, filter <ms> ms   (medians of LOADS page loads and KEYS keystrokes)
import { missing } from "@switchboard/testkit/env";
import { seedNetwork } from "@switchboard/testkit/network-fixture";
import { median } from "@switchboard/testkit/stats";
import type { Page } from "playwright-core";
import { launchChromium } from "./support/chromium.ts";
import { startConsoleServer } from "./support/console-server.ts";
import { signIn } from "./support/page-helpers.ts";

const HOSTS = 10_000;
const LOADS = 5;
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8"];

const noChromium = missing("chromium");
if (noChromium) {
  console.error(`bench:web cannot run: ${noChromium}`);
  process.exit(1);
}

// Sent as text: tsx would wrap a function literal in helpers the page does not have.
const MEASURE = `([start, end]) => new Promise((resolve, reject) => {
  const deadline = performance.now() + 20000;
  const poll = () => {
    const a = performance.getEntriesByName(start, "mark").at(-1);
    const b = performance.getEntriesByName(end, "mark").at(-1);
    if (a && b && b.startTime >= a.startTime) resolve(b.startTime - a.startTime);
    else if (performance.now() > deadline) reject(new Error("no " + start + " -> " + end));
    else setTimeout(poll, 10);
  };
  poll();
})`;

/** Milliseconds from the latest `from` mark to the latest `to` mark after it, in the page. */
async function measure(page: Page, from: string, to: string): Promise<number> {
  return page.evaluate(`(${MEASURE})(${JSON.stringify([from, to])})`) as Promise<number>;
}

const server = await startConsoleServer();
const browser = await launchChromium();
try {
  const { networkId } = await seedNetwork(server.post, {
    name: "bench",
    dataSubnet: "10.64.0.0/16",
    backboneSubnet: "10.65.0.0/24",
    switches: ["a"],
  });
  const seeded = performance.now();
  const rows = Array.from({ length: HOSTS }, (_, i) => ({
    commonName: `host-${String(i).padStart(5, "0")}`,
    tags: [i % 10 === 0 ? "db" : "web", `rack-${i % 20}`],
    description: `bench host ${i}`,
  }));
  const imported = await server.api<{ created: number }>("POST", "/api/hosts/import", {
    networkId,
    hosts: rows,
  });
  if (imported.created !== HOSTS) throw new Error(`imported ${imported.created} hosts`);
  console.log(`seeded ${HOSTS} hosts in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

  const page = await browser.context.newPage();
  await signIn(page, server.base);
  const firstRender: number[] = [];
  const loads: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const started = Date.now();
    await page.goto(`${server.base}/hosts`);
    await page.locator(`[data-testid="hosts-table"][data-rows="${HOSTS}"]`).waitFor({ timeout: 60_000 });
    firstRender.push(await measure(page, "sb:hosts-data", "sb:hosts-painted"));
    loads.push(Date.now() - started);
  }
  console.log(`first render (data in hand -> table painted): ${firstRender.map((v) => v.toFixed(1)).join(", ")} ms`);
  console.log(`page load to 10,000 rows (includes 20 list pages over HTTP): median ${median(loads)} ms`);

  const filter: number[] = [];
  const search = page.getByTestId("host-search");
  for (const key of KEYS) {
    await search.fill("");
    await page.locator(`[data-testid="hosts-table"][data-rows="${HOSTS}"]`).waitFor();
    await page.waitForTimeout(100);
    await search.focus();
    await page.keyboard.press(key);
    filter.push(await measure(page, "sb:filter-input", "sb:hosts-filtered"));
  }
  console.log(`filter keystroke (input -> table painted): ${filter.map((v) => v.toFixed(1)).join(", ")} ms`);
  console.log(`web: first-render ${median(firstRender).toFixed(0)} ms, filter ${median(filter).toFixed(0)} ms`);
} finally {
  await browser.close();
  await server.stop();
}

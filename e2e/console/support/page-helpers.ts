import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Locator, Page } from "playwright-core";
import { ADMIN } from "./console-server.ts";

export const ARTIFACTS = fileURLToPath(new URL("../../artifacts/", import.meta.url));

/** Saves a full-page screenshot as e2e/artifacts/<name>.png (CI keeps the folder). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The input labelled exactly `label` (a required field's label ends with " *"). */
export function field(scope: Page | Locator, label: string): Locator {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return scope.getByLabel(new RegExp(`^${escaped}\\s*\\*?$`));
}

export async function signIn(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/`);
  await field(page, "Username").fill(ADMIN.username);
  await field(page, "Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
}

/** The error message shown at a labelled form field (Mantine links it with aria-describedby). */
export async function fieldError(field: Locator): Promise<string> {
  await field.and(field.page().locator('[aria-invalid="true"]')).waitFor({ timeout: 10_000 });
  const ids = ((await field.getAttribute("aria-describedby")) ?? "").split(/\s+/).filter(Boolean);
  const texts: string[] = [];
  for (const id of ids) {
    const element = field.page().locator(`[id="${id}"]`);
    if ((await element.count()) > 0 && id.endsWith("-error")) texts.push((await element.textContent()) ?? "");
  }
  return texts.join(" ");
}

export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

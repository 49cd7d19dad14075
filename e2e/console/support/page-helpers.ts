import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Locator, Page } from "playwright-core";
import { ADMIN } from "./console-server.ts";

export const ARTIFACTS = fileURLToPath(new URL("../../artifacts/", import.meta.url));

/** Saves a full-page screenshot as e2e/artifacts/<name>.png (CI keeps the folder). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  // A dialog or notification still fading in would be caught half-drawn: let finite transitions
  // end first (spinners run forever, so they are left out; and never more than a second).
  await page.evaluate(async () => {
    // Two frames, so a transition that a state change has just asked for has begun.
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    await Promise.race([
      Promise.all(
        document
          .getAnimations()
          .filter((a) => Number.isFinite(Number(a.effect?.getComputedTiming().endTime)))
          .map((a) => a.finished.catch(() => undefined)),
      ),
      new Promise((resolve) => setTimeout(resolve, 1000)),
    ]);
  });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The input labelled exactly `label` (a required field's label ends with " *"). */
export function field(scope: Page | Locator, label: string): Locator {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return scope.getByLabel(new RegExp(`^${escaped}\\s*\\*?$`));
}

export async function signIn(page: Page, base: string, user: { username: string; password: string } = ADMIN) {
  await page.goto(`${base}/`);
  await field(page, "Username").fill(user.username);
  await field(page, "Password").fill(user.password);
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

export async function signOut(page: Page): Promise<void> {
  await page.getByTestId("user-menu").click();
  await page.getByRole("menuitem", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
}

/**
 * A request made from the page with its session cookie and CSRF token, as a person poking at the
 * API from the browser's console would: for checking that the API itself refuses what the
 * console hides.
 */
export async function requestFromPage(
  page: Page,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; message: string }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const session = (await (await fetch("/api/session")).json()) as { csrfToken: string };
      const response = await fetch(path, {
        method,
        headers: {
          "x-csrf-token": session.csrfToken,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {}
      return { status: response.status, message };
    },
    { method, path, body },
  );
}

/**
 * What sits over `target` (a notification, a dialog's overlay) near any corner or its middle, named
 * by tag and classes; null when every one of those points reaches the target itself.
 */
export async function coveredBy(target: Locator): Promise<string | null> {
  return target.evaluate((element) => {
    const r = element.getBoundingClientRect();
    // Inset from the corners: a rounded button's very corner belongs to what is behind it.
    const at = (fx: number, fy: number): [number, number] => [r.left + r.width * fx, r.top + r.height * fy];
    const points = [at(0.15, 0.25), at(0.85, 0.25), at(0.15, 0.75), at(0.85, 0.75), at(0.5, 0.5)];
    for (const [x, y] of points) {
      const hit = document.elementFromPoint(x, y);
      if (!hit) return `nothing at ${x},${y} (outside the window)`;
      if (!element.contains(hit)) return `${hit.tagName.toLowerCase()}.${[...hit.classList].join(".")} at ${x},${y}`;
    }
    return null;
  });
}

/** True when the two elements' boxes share any area (both must be visible). */
export async function overlap(a: Locator, b: Locator): Promise<boolean> {
  const [boxA, boxB] = [await a.boundingBox(), await b.boundingBox()];
  if (!boxA || !boxB) throw new Error("overlap: both elements must be visible");
  return (
    boxA.x < boxB.x + boxB.width &&
    boxB.x < boxA.x + boxA.width &&
    boxA.y < boxB.y + boxB.height &&
    boxB.y < boxA.y + boxA.height
  );
}

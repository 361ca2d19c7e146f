// Debian's Chromium driven by playwright-core (never a downloaded browser), with axe-core checks.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";

export const chromiumPath = "/usr/bin/chromium";
export const chromiumMissing = !existsSync(chromiumPath);
if (chromiumMissing) {
  console.warn(`Chromium is not installed at ${chromiumPath} (Debian package "chromium"): the console's browser tests are SKIPPED.`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's full default rule set on the page as it is now: no violation allowed. */
export async function expectNoAxeViolations(page: Page): Promise<void> {
  // Evaluated through the DevTools protocol, so our CSP (no inline scripts) stays on for the page itself.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document)).violations.map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.map((node) => node.target) }));
  });
  expect(violations, `axe-core on ${page.url()}`).toEqual([]);
}

/** Fails the test on any CSP violation or script error the page reports. */
export function watchPageErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return problems;
}

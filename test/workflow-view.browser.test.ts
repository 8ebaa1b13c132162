// End to end: the real api (page + runs API + SSE) and the real coordinator and worker run a
// two-step workflow while headless Chromium watches the DAG; the first step is seen running, then turning completed, then the run completing.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./helpers/browser.js";
import { ADMIN_KEY, type Stack, startStack } from "./helpers/stack.js";

describe("workflow view on a live run (headless Chromium)", () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startStack({ config: { agents: { mock: { type: "mock" } } } });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("shows a running step turn completed, live from the run's SSE stream", async () => {
    const defined = await stack.operator.post("/api/v1/workflows", {
      name: "view-test",
      steps: [
        { step_id: "wait", tool: "mock.sleep", arguments: { ms: 6000 } },
        { step_id: "say", tool: "mock.echo", arguments: { message: "done" }, depends_on: ["wait"] },
      ],
    });
    expect([200, 201]).toContain(defined.status);
    const started = await stack.operator.post("/api/v1/workflows/view-test/runs", { input: {} });
    expect(started.status).toBe(201);
    const runId = started.body.run_id as string;

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${stack.url}/ui/runs`);
    await page.fill("#key", ADMIN_KEY);
    await page.click("#login-form button");
    await page.waitForSelector(`#runs tr[data-run="${runId}"]`);
    await page.click(`a[href="/ui/runs/${runId}"]`);

    await page.waitForSelector('.step[data-step="wait"][data-status="running"]', { timeout: 20_000 });
    expect(await page.locator(".dag .edge").count()).toBe(1);
    await page.waitForSelector('.step[data-step="wait"][data-status="completed"]', { timeout: 15_000 });
    await page.waitForSelector('.step[data-step="say"][data-status="completed"]', { timeout: 15_000 });
    await page.waitForSelector('#run-status[data-status="completed"]', { timeout: 15_000 });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { uiRouter } from "@switchyard/api";
import express from "express";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./helpers/browser.js";

const KEY = "ui-test-key-0123456789";

/**
 * The workflow view's page in headless Chromium, served by the api's real `uiRouter`, against a
 * local server that speaks the documented runs API and its SSE stream (list, run, workflow
 * definition, events). The end-to-end version on the real engine is
 * test/workflow-view.browser.test.ts.pending.
 */
describe("workflow view page (headless Chromium)", () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  /** Moves the stand-in run forward: 0 fetch running, 1 fetch done, 2 all done. */
  let advance: () => void = () => {};
  let stage = 0;
  const steps = () => [
    { step_id: "fetch", status: stage >= 1 ? "completed" : "running", attempts: 1 },
    { step_id: "summarize", status: stage >= 2 ? "completed" : stage >= 1 ? "running" : "pending", attempts: 1 },
    { step_id: "notify", status: stage >= 2 ? "completed" : "pending", attempts: 1 },
  ];
  const run = () => ({
    run_id: "run_ui1",
    workflow: "digest",
    version: 1,
    status: stage >= 2 ? "completed" : "running",
    steps: steps(),
    created_at: "2026-01-01T00:00:00.000Z",
  });

  beforeAll(async () => {
    const app = express();
    app.use(uiRouter());
    app.use("/api/v1", (req, res, next) => {
      if (req.headers.authorization !== `Bearer ${KEY}`) {
        res.status(401).json({ error_code: "UNAUTHORIZED", message: "invalid API key", details: null });
        return;
      }
      next();
    });
    app.get("/api/v1/runs", (_req, res) => {
      res.json({ runs: [run()], next_before: null });
    });
    app.get("/api/v1/runs/run_ui1", (_req, res) => {
      res.json(run());
    });
    app.get("/api/v1/workflows/digest", (_req, res) => {
      res.json({
        name: "digest",
        version: 1,
        definition: {
          name: "digest",
          steps: [
            { step_id: "fetch", tool: "mock.sleep" },
            { step_id: "summarize", tool: "mock.echo", depends_on: ["fetch"] },
            { step_id: "notify", tool: "mock.echo", depends_on: ["fetch", "summarize"] },
          ],
        },
      });
    });
    app.get("/api/v1/runs/run_ui1/events", (_req, res) => {
      res.status(200).set({ "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.flushHeaders();
      res.write(": connected\n\n");
      let id = 0;
      advance = () => {
        stage++;
        res.write(`id: ${++id}\nevent: step\ndata: ${JSON.stringify({ kind: "step", stage })}\n\n`);
        if (stage >= 2) res.end();
      };
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("asks for a key, lists runs, draws the DAG and turns steps completed from the SSE stream", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    await page.goto(`${url}/ui/runs`);
    await page.fill("#key", KEY);
    await page.click("#login-form button");
    await page.waitForSelector('#runs tr[data-run="run_ui1"]');
    expect(await page.textContent('#runs tr[data-run="run_ui1"]')).toContain("digest");

    await page.click('a[href="/ui/runs/run_ui1"]');
    await page.waitForSelector('.step[data-step="fetch"][data-status="running"]');
    expect(await page.locator(".dag .step").count()).toBe(3);
    expect(await page.locator(".dag .edge").count()).toBe(3);
    // Columns follow dependency depth: fetch, then summarize, then notify.
    const x = async (step: string) =>
      Number(((await page.getAttribute(`.step[data-step="${step}"]`, "transform")) ?? "").match(/translate\(([\d.]+)/)?.[1]);
    expect(await x("fetch")).toBeLessThan(await x("summarize"));
    expect(await x("summarize")).toBeLessThan(await x("notify"));
    await page.waitForSelector('#live:text-is("live")');

    advance();
    await page.waitForSelector('.step[data-step="fetch"][data-status="completed"]');
    expect(await page.getAttribute('.step[data-step="summarize"]', "data-status")).toBe("running");
    advance();
    await page.waitForSelector('.step[data-step="notify"][data-status="completed"]');
    await page.waitForSelector('#run-status[data-status="completed"]');
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);
});

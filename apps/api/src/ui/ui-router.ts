import { Router } from "express";
import { UI_JS } from "./app-js.js";
import { UI_CSS, UI_HTML } from "./page.js";

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/**
 * The workflow view: `/ui/runs` lists runs, `/ui/runs/{id}` draws a run's DAG and follows it
 * live. The pages hold no data; the browser reads the REST API with the user's key.
 */
export function uiRouter(): Router {
  const router = Router();
  const page = (_req: unknown, res: import("express").Response) => {
    res.set({ "content-security-policy": CSP, "cache-control": "no-store", "x-content-type-options": "nosniff" });
    res.type("html").send(UI_HTML);
  };
  router.get("/ui", (_req, res) => res.redirect(302, "/ui/runs"));
  router.get("/ui/runs", page);
  router.get("/ui/runs/:id", page);
  router.get("/ui/app.js", (_req, res) => {
    res.set({ "cache-control": "no-cache", "x-content-type-options": "nosniff" });
    res.type("text/javascript").send(UI_JS);
  });
  router.get("/ui/app.css", (_req, res) => {
    res.set({ "cache-control": "no-cache", "x-content-type-options": "nosniff" });
    res.type("text/css").send(UI_CSS);
  });
  return router;
}

import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import express, { type NextFunction, type Request, type Response, Router } from "express";
import { bearerToken, type KeyRing } from "./auth.js";

const COOKIE = "sy_admin";
const SESSION_MS = 12 * 3_600_000;

export interface AdminOptions {
  keys: KeyRing;
  queues: () => Queue[];
  /** Mark cookies Secure (when served over HTTPS). */
  secureCookies?: boolean;
}

export interface AdminMount {
  router: Router;
  /** Re-reads the queue list (after agents are added or removed). */
  refreshQueues(): void;
}

/**
 * Bull Board at /admin/queues, for admins only: an admin key as a bearer header, or a session
 * cookie from /admin/login (a browser cannot send bearer headers to a dashboard).
 */
export function adminRouter(options: AdminOptions): AdminMount {
  const router = Router();
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath("/admin/queues");
  const board = createBullBoard({ queues: options.queues().map((q) => new BullMQAdapter(q)), serverAdapter });

  const requireAdmin = (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    const principal = token ? options.keys.authenticate(token) : sessionOf(req, options.keys);
    if (principal?.role === "admin") return next();
    if (req.accepts(["html", "json"]) === "html" && req.method === "GET")
      return res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`);
    res
      .status(principal ? 403 : 401)
      .json({ error_code: principal ? "FORBIDDEN" : "UNAUTHORIZED", message: "admin key required", details: null });
  };

  router.get("/admin/login", (req, res) => {
    res.type("html").send(loginPage(typeof req.query.next === "string" ? req.query.next : "/admin/queues", false));
  });

  router.post("/admin/login", express.urlencoded({ extended: false, limit: "4kb" }), (req, res) => {
    const key = typeof req.body?.key === "string" ? req.body.key : "";
    const next = safeNext(typeof req.body?.next === "string" ? req.body.next : "/admin/queues");
    const principal = options.keys.authenticate(key);
    if (principal?.role !== "admin") {
      res.status(401).type("html").send(loginPage(next, true));
      return;
    }
    const cookie = options.keys.issueSession(principal, SESSION_MS);
    res.cookie(COOKIE, cookie, {
      httpOnly: true,
      sameSite: "strict",
      secure: options.secureCookies ?? false,
      maxAge: SESSION_MS,
      path: "/",
    });
    res.redirect(303, next);
  });

  router.post("/admin/logout", (_req, res) => {
    res.clearCookie(COOKIE, { path: "/" });
    res.redirect(303, "/admin/login");
  });

  router.use("/admin/queues", requireAdmin, serverAdapter.getRouter());

  return {
    router,
    refreshQueues: () => board.replaceQueues(options.queues().map((q) => new BullMQAdapter(q))),
  };
}

function sessionOf(req: Request, keys: KeyRing) {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === COOKIE) return keys.verifySession(decodeURIComponent(rest.join("=")));
  }
  return undefined;
}

function safeNext(next: string): string {
  // Only same-site paths: never an open redirect.
  return next.startsWith("/") && !next.startsWith("//") ? next : "/admin/queues";
}

function loginPage(next: string, failed: boolean): string {
  const escaped = safeNext(next).replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>Switchyard admin</title>
<style>body{font:16px system-ui;display:grid;place-items:center;height:100vh;margin:0;background:#f6f7f9}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;display:grid;gap:.75rem;min-width:20rem}
input{font:inherit;padding:.5rem}button{font:inherit;padding:.5rem;cursor:pointer}.err{color:#b00}</style></head>
<body><form method="post" action="/admin/login"><h1>Switchyard admin</h1>
${failed ? '<p class="err">That is not an admin key.</p>' : ""}
<label>Admin API key <input type="password" name="key" autocomplete="current-password" required autofocus></label>
<input type="hidden" name="next" value="${escaped}"><button type="submit">Sign in</button></form></body></html>`;
}

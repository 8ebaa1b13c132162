import { Router } from "express";
import { API_PREFIX } from "../openapi.js";
import type { RouteTable } from "../route-table.js";

/**
 * The OpenAPI document and a browsable reference page rendered from it (self-contained: no
 * scripts or assets from elsewhere). Public: they describe the API and hold no secrets.
 */
export function docsRouter(routes: RouteTable, document: () => Record<string, unknown>): Router {
  const router = Router();
  routes.add(
    router,
    {
      method: "get",
      path: "/openapi.json",
      operationId: "getOpenApiDocument",
      summary: "This OpenAPI 3.1 document",
      tag: "Docs",
      role: null,
      responses: { 200: { description: "The document", contentType: "application/json" } },
    },
    (_req, res) => {
      res.json(document());
    },
  );
  routes.add(
    router,
    {
      method: "get",
      path: "/docs",
      operationId: "getReferencePage",
      summary: "Browsable API reference (HTML)",
      tag: "Docs",
      role: null,
      responses: { 200: { description: "An HTML page", contentType: "text/html" } },
    },
    (_req, res) => {
      res
        .type("html")
        .setHeader("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
        .send(referencePage(document()));
    },
  );
  return router;
}

const html = (text: unknown) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  "x-switchyard-role"?: string;
  parameters?: Array<{ name: string; in: string; required: boolean; description?: string; schema?: unknown }>;
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}

function referencePage(doc: Record<string, unknown>): string {
  const info = doc.info as { title: string; version: string; description: string };
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  const byTag = new Map<string, Array<{ method: string; path: string; op: Operation }>>();
  for (const [path, methods] of Object.entries(paths))
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags[0] ?? "Other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), { method, path, op }]);
    }
  const schema = (value: unknown) => `<details><summary>schema</summary><pre>${html(JSON.stringify(value, null, 2))}</pre></details>`;
  const sections = [...byTag.entries()].map(([tag, ops]) => {
    const items = ops.map(({ method, path, op }) => {
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<tr><td><code>${html(p.name)}</code></td><td>${p.in}</td><td>${p.required ? "yes" : ""}</td><td>${html(p.description ?? "")}</td></tr>`,
        )
        .join("");
      const body = op.requestBody ? `<h4>Body</h4>${schema(op.requestBody.content["application/json"]?.schema)}` : "";
      const responses = Object.entries(op.responses)
        .map(([status, r]) => {
          const content = r.content ? Object.values(r.content)[0]?.schema : undefined;
          return `<li><b>${status}</b> ${html(r.description)}${content ? schema(content) : ""}</li>`;
        })
        .join("");
      return `<section id="${html(op.operationId)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${html(path)}</code></h3>
<p>${html(op.summary)}${op["x-switchyard-role"] ? ` <span class="role">role: ${html(op["x-switchyard-role"])}</span>` : ' <span class="role">public</span>'}</p>
${op.description ? `<p>${html(op.description)}</p>` : ""}
${params ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th></th></tr>${params}</table>` : ""}
${body}<h4>Responses</h4><ul>${responses}</ul></section>`;
    });
    return `<h2 id="tag-${html(tag)}">${html(tag)}</h2>${items.join("")}`;
  });
  const nav = [...byTag.keys()].map((tag) => `<a href="#tag-${html(tag)}">${html(tag)}</a>`).join(" · ");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${html(info.title)} reference</title>
<style>body{font:15px/1.5 system-ui;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}code,pre{font:13px ui-monospace,monospace}
pre{background:#f4f5f7;padding:.75rem;overflow:auto}section{border-top:1px solid #ddd;padding:.5rem 0}
.m{display:inline-block;min-width:4rem;text-align:center;border-radius:4px;color:#fff;font-size:13px;padding:0 .4rem}
.get{background:#2b7bb9}.post{background:#2f9e44}.delete{background:#c92a2a}.role{color:#666;font-size:13px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}</style></head>
<body><h1>${html(info.title)} <small>${html(info.version)}</small></h1><p>${html(info.description)}</p>
<p>Machine-readable: <a href="${API_PREFIX}/openapi.json">${API_PREFIX}/openapi.json</a> (OpenAPI 3.1)</p><nav>${nav}</nav>
${sections.join("\n")}</body></html>`;
}

/**
 * The workflow view's browser code (plain ES2020, no build step). It reads the documented REST
 * API with the key the user typed (kept in sessionStorage for the tab), lists runs, lays a run's
 * steps out as a DAG (columns = dependency depth, edges from `depends_on` in the workflow
 * definition) and follows `GET /api/v1/runs/{id}/events` (SSE, read with fetch so the key can go
 * in a header), re-reading the run on every event.
 */
export const UI_JS = String.raw`
const KEY = "switchyard.api_key";
const FINAL = new Set(["completed", "failed", "cancelled"]);
const main = document.getElementById("main");
const crumb = document.getElementById("crumb");
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");

document.getElementById("signout").addEventListener("click", () => { sessionStorage.removeItem(KEY); location.reload(); });

class Unauthorized extends Error {}
async function api(path, init = {}) {
  const key = sessionStorage.getItem(KEY);
  if (!key) throw new Unauthorized("no key");
  const response = await fetch(path, { ...init, headers: { authorization: "Bearer " + key, ...(init.headers || {}) } });
  if (response.status === 401 || response.status === 403) throw new Unauthorized((await response.json().catch(() => ({}))).message || "refused");
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error((body.error_code || response.status) + ": " + (body.message || response.statusText));
  }
  return response;
}
const getJson = async (path) => (await api(path)).json();

function showLogin(message) {
  main.innerHTML = document.getElementById("login").innerHTML;
  document.getElementById("login-error").textContent = message || "";
  document.getElementById("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
    route();
  });
}

async function listRuns() {
  crumb.textContent = "/ runs";
  const body = await getJson("/api/v1/runs?limit=100");
  const rows = body.runs.map((r) =>
    "<tr data-run=\"" + esc(r.run_id) + "\"><td><a href=\"/ui/runs/" + encodeURIComponent(r.run_id) + "\">" + esc(r.run_id) + "</a></td>" +
    "<td>" + esc(r.workflow) + "</td><td><span class=\"badge\" data-status=\"" + esc(r.status) + "\">" + esc(r.status) + "</span></td>" +
    "<td>" + (r.steps || []).filter((s) => s.status === "completed").length + "/" + (r.steps || []).length + "</td>" +
    "<td class=\"muted\">" + esc(r.created_at) + "</td></tr>").join("");
  main.innerHTML = "<h1>Workflow runs</h1>" + (body.runs.length === 0 ? "<p class=\"muted\">No runs yet.</p>" :
    "<table id=\"runs\"><thead><tr><th>Run</th><th>Workflow</th><th>Status</th><th>Steps done</th><th>Created</th></tr></thead><tbody>" + rows + "</tbody></table>");
  setTimeout(() => { if (location.pathname === "/ui/runs") listRuns().catch(fail); }, 5000);
}

/** Columns by dependency depth; rows in definition order within a column. */
export function layout(steps, deps) {
  const depth = new Map();
  const visit = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(-1, ...(deps.get(id) || []).filter((p) => steps.some((s) => s.step_id === p)).map((p) => visit(p, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  steps.forEach((s) => visit(s.step_id));
  const columns = [];
  for (const s of steps) (columns[depth.get(s.step_id)] ||= []).push(s.step_id);
  const pos = new Map();
  columns.forEach((col, x) => col.forEach((id, y) => pos.set(id, { x: 24 + x * 220, y: 24 + y * 84 })));
  return { pos, width: 24 + columns.length * 220, height: 24 + Math.max(1, ...columns.map((c) => c.length)) * 84 };
}

function drawDag(run, deps) {
  const { pos, width, height } = layout(run.steps, deps);
  const W = 170, H = 52;
  let edges = "";
  for (const step of run.steps)
    for (const parent of deps.get(step.step_id) || []) {
      const a = pos.get(parent), b = pos.get(step.step_id);
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
      edges += "<path class=\"edge\" data-from=\"" + esc(parent) + "\" data-to=\"" + esc(step.step_id) + "\" d=\"M" + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + x2 + "," + y2 + "\"/>";
    }
  let nodes = "";
  for (const step of run.steps) {
    const p = pos.get(step.step_id);
    nodes += "<g class=\"step\" data-step=\"" + esc(step.step_id) + "\" data-status=\"" + esc(step.status) + "\" transform=\"translate(" + p.x + "," + p.y + ")\">" +
      "<rect width=\"" + W + "\" height=\"" + H + "\"></rect><text x=\"12\" y=\"21\">" + esc(step.step_id) + "</text>" +
      "<text class=\"state\" x=\"12\" y=\"39\">" + esc(step.status) + "</text></g>";
  }
  return "<svg class=\"dag\" width=\"" + width + "\" height=\"" + height + "\" viewBox=\"0 0 " + width + " " + height + "\">" + edges + nodes + "</svg>";
}

function updateDag(run) {
  document.getElementById("run-status").dataset.status = run.status;
  document.getElementById("run-status").textContent = run.status;
  for (const step of run.steps) {
    const node = main.querySelector(".step[data-step=\"" + CSS.escape(step.step_id) + "\"]");
    if (!node) return false;
    node.dataset.status = step.status;
    node.querySelector(".state").textContent = step.status + (step.attempts > 1 ? " (attempt " + step.attempts + ")" : "");
  }
  return true;
}

async function showRun(id) {
  crumb.innerHTML = "/ <a href=\"/ui/runs\">runs</a> / " + esc(id);
  const path = "/api/v1/runs/" + encodeURIComponent(id);
  let run = await getJson(path);
  const deps = new Map();
  try {
    const wf = await getJson("/api/v1/workflows/" + encodeURIComponent(run.workflow) + (run.version ? "?version=" + run.version : ""));
    for (const s of (wf.definition || wf).steps || []) deps.set(s.step_id || s.id, s.depends_on || []);
  } catch (error) {
    if (error instanceof Unauthorized) throw error;
  }
  for (const s of run.steps) if (s.depends_on) deps.set(s.step_id, s.depends_on);
  main.innerHTML = "<h1>" + esc(run.workflow) + " <span id=\"run-status\" class=\"badge\"></span></h1>" +
    "<p class=\"muted\">run " + esc(run.run_id) + " · <span id=\"live\">connecting…</span></p>" + drawDag(run, deps);
  updateDag(run);
  const live = document.getElementById("live");

  let pending;
  const refresh = () => {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      run = await getJson(path);
      if (!updateDag(run)) return showRun(id);
    }, 50);
  };
  let lastId;
  while (!FINAL.has(run.status) && location.pathname === "/ui/runs/" + id) {
    try {
      const response = await api(path + "/events", { headers: { accept: "text/event-stream", ...(lastId ? { "last-event-id": lastId } : {}) } });
      live.textContent = "live";
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const idLine = block.split("\n").find((l) => l.startsWith("id:"));
          if (idLine) lastId = idLine.slice(3).trim();
          if (block.split("\n").some((l) => l.startsWith("data:"))) refresh();
        }
      }
    } catch (error) {
      if (error instanceof Unauthorized) throw error;
      live.textContent = "reconnecting (" + error.message + ")";
    }
    run = await getJson(path);
    updateDag(run);
    if (!FINAL.has(run.status)) await new Promise((r) => setTimeout(r, 1000));
  }
  live.textContent = "finished";
}

function fail(error) {
  if (error instanceof Unauthorized) return showLogin(error.message === "no key" ? "" : error.message);
  main.innerHTML = "<p class=\"err\">" + esc(error.message) + "</p>";
}

function route() {
  const match = location.pathname.match(/^\/ui\/runs\/([^/]+)$/);
  (match ? showRun(decodeURIComponent(match[1])) : listRuns()).catch(fail);
}
route();
`;

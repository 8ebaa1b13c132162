/** The workflow view's HTML shell: data comes from the REST API, never from the server-rendered page. */
export const UI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard runs</title>
<link rel="stylesheet" href="/ui/app.css">
</head>
<body>
<header><a href="/ui/runs" class="brand">Switchyard</a> <span id="crumb"></span>
<span class="spacer"></span><a href="/admin/queues">Queues</a> <button id="signout" type="button">Sign out</button></header>
<main id="main"><p class="muted">Loading…</p></main>
<template id="login">
<form id="login-form" class="card"><h1>Sign in</h1>
<p>API key (viewer or above). It stays in this browser tab only.</p>
<input id="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open</button><p id="login-error" class="err"></p></form>
</template>
<script type="module" src="/ui/app.js"></script>
</body>
</html>
`;

export const UI_CSS = `
:root{--bg:#f6f7f9;--fg:#1d2330;--muted:#6b7280;--card:#fff;--line:#c9ced8;
--pending:#9aa3b2;--running:#2f6fdf;--waiting:#b7791f;--completed:#2f9e44;--failed:#d63a3a;--skipped:#8f8f8f;--cancelled:#7a5af8}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;gap:1rem;align-items:center;padding:.75rem 1.25rem;background:#1d2330;color:#fff}
header a{color:#fff;text-decoration:none}.brand{font-weight:600}.spacer{flex:1}
header button{background:none;border:1px solid #fff6;color:#fff;border-radius:4px;padding:.2rem .6rem;cursor:pointer}
main{padding:1.25rem}.muted{color:var(--muted)}.err{color:var(--failed)}
.card{background:var(--card);padding:1.5rem;border-radius:8px;box-shadow:0 1px 3px #0002;max-width:28rem;display:grid;gap:.6rem}
table{border-collapse:collapse;background:var(--card);width:100%;box-shadow:0 1px 3px #0001}
th,td{padding:.45rem .75rem;text-align:left;border-bottom:1px solid #eef0f3}th{font-weight:600;color:var(--muted)}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;color:#fff;font-size:12px;background:var(--pending)}
.badge[data-status=running]{background:var(--running)}.badge[data-status=waiting]{background:var(--waiting)}
.badge[data-status=completed]{background:var(--completed)}.badge[data-status=failed]{background:var(--failed)}
.badge[data-status=skipped]{background:var(--skipped)}.badge[data-status=cancelled]{background:var(--cancelled)}
.dag{background:var(--card);border-radius:8px;box-shadow:0 1px 3px #0002;overflow:auto;margin:1rem 0}
.dag .edge{fill:none;stroke:var(--line);stroke-width:2}
.dag .step rect{fill:#fff;stroke:var(--pending);stroke-width:2.5;rx:8}
.dag .step text{font:13px system-ui,sans-serif;fill:var(--fg)}.dag .step .state{font-size:11px;fill:var(--muted)}
.dag .step[data-status=running] rect{stroke:var(--running);fill:#eef4ff}
.dag .step[data-status=waiting] rect{stroke:var(--waiting);fill:#fff8eb}
.dag .step[data-status=completed] rect{stroke:var(--completed);fill:#effaf1}
.dag .step[data-status=failed] rect{stroke:var(--failed);fill:#fdeeee}
.dag .step[data-status=skipped] rect{stroke:var(--skipped);stroke-dasharray:4 3}
.dag .step[data-status=cancelled] rect{stroke:var(--cancelled)}
#live{font-size:12px}
`;

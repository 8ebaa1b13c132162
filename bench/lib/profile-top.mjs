#!/usr/bin/env node
// Where a .cpuprofile's time went:
//   node bench/lib/profile-top.mjs <file> [top]                 self time by package and by function
//   node bench/lib/profile-top.mjs <file> [top] --inclusive [filter]
//                                                               time with the function on the stack
//                                                               (idle excluded), optionally only
//                                                               functions whose name/url has `filter`
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const inclusive = args.includes("--inclusive");
const [file, top = "25", filter = ""] = args.filter((a) => a !== "--inclusive");
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas;
const label = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*node_modules\//, "").replace(/^.*\/(packages|apps)\//, "$1/");
  return `${functionName || "(anon)"} ${where}:${lineNumber + 1}`;
};
const show = (map, total, n) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join("\n");

if (inclusive) {
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const time = new Map();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    let id = profile.samples[i];
    if (byId.get(id).callFrame.functionName === "(idle)") continue;
    busy += dt[i] ?? 0;
    const seen = new Set();
    for (; id !== undefined; id = parent.get(id)) {
      const key = label(byId.get(id));
      if (seen.has(key)) continue;
      seen.add(key);
      time.set(key, (time.get(key) ?? 0) + (dt[i] ?? 0));
    }
  }
  const shown = new Map([...time].filter(([k]) => k.includes(filter)));
  console.log(`busy ${(busy / 1e6).toFixed(2)} s (idle excluded); inclusive time:\n${show(shown, busy, Number(top))}`);
} else {
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    self.set(node, (self.get(node) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map();
  const pkg = new Map();
  for (const [node, us] of self) {
    const key = label(node);
    fn.set(key, (fn.get(key) ?? 0) + us);
    const { url, functionName } = node.callFrame;
    const group =
      /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (/(packages|apps)\/([^/]+)/.exec(url)?.[0] || url.split(":")[0] || functionName);
    pkg.set(group, (pkg.get(group) ?? 0) + us);
  }
  console.log(
    `total ${(total / 1e6).toFixed(1)} s sampled\n\nby package/area:\n${show(pkg, total, 15)}\n\nby function:\n${show(fn, total, Number(top))}`,
  );
}

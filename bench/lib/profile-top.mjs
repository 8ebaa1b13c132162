#!/usr/bin/env node
// Self time by function (and by package) of a .cpuprofile: node bench/lib/profile-top.mjs <file> [top]
import { readFileSync } from "node:fs";

const [file, top = "25"] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  self.set(node, (self.get(node) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const pkg = new Map();
for (const [node, us] of self) {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*node_modules\//, "").replace(/^.*\/(packages|apps)\//, "$1/");
  const key = `${functionName || "(anon)"} ${where}:${lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const group =
    /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (/(packages|apps)\/([^/]+)/.exec(url)?.[0] || url.split(":")[0] || functionName);
  pkg.set(group, (pkg.get(group) ?? 0) + us);
}
const show = (map, n) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join("\n");
console.log(`total ${(total / 1e6).toFixed(1)} s sampled\n\nby package/area:\n${show(pkg, 15)}\n\nby function:\n${show(fn, Number(top))}`);

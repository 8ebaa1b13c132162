import { defineTool, NonRetryableError, type OrchestrationTool } from "@switchyard/core";
import { selfAgent } from "./context.js";
import type { Participants } from "./participants.js";
import {
  AckMessagesInput,
  AcquireFileLockInput,
  CheckAgentResponsivenessInput,
  CheckDelegationDeadlocksInput,
  CheckFileLockInput,
  CheckMessageFrequencyInput,
  CheckMessageRecipientStatusInput,
  ClaimTaskInput,
  CompleteTaskInput,
  CreateCollaborationSessionInput,
  CreateGoalInput,
  CreateProjectInput,
  DelegateSubtaskInput,
  DeregisterAgentInput,
  EvaluateContributionInput,
  FailTaskInput,
  FindAgentsInput,
  GetCollaborationSessionInput,
  GetGoalInput,
  GetProjectInput,
  GetTaskInput,
  HeartbeatInput,
  LinkToGoalInput,
  ListEvaluationsInput,
  ListEventsInput,
  ListGoalsInput,
  ListProjectsInput,
  ListTasksInput,
  ReadMessagesInput,
  RegisterAgentInput,
  ReleaseFileLockInput,
  RenewFileLockInput,
  RequestAssistanceInput,
  SendMessageInput,
  UpdateGoalStatusInput,
  UpdateProjectStatusInput,
} from "./schemas.js";

/**
 * Every participant operation, defined once: the api serves each as
 * `POST /api/v1/participants/<name>` and the `/mcp` server as an MCP tool of the same name.
 * Operations an agent does as itself take its id from the key it authenticated with
 * (`actor.agent_id`), never from the input.
 */
export function participantTools(p: Participants): OrchestrationTool[] {
  const tools = [
    // ── Registry ────────────────────────────────────────────────────────────────────────────
    defineTool({
      name: "register_agent",
      description:
        "Register a participant agent (id, name, role, model, capabilities, group). Returns its own API key once: " +
        "use it for every later call. Registering an existing id again rotates its key.",
      input: RegisterAgentInput,
      role: "operator",
      handler: (actor, input) => p.directory.register(actor, input),
    }),
    defineTool({
      name: "deregister_agent",
      description: "Remove a participant agent and revoke its key; its claimed work goes back to the queue.",
      input: DeregisterAgentInput,
      role: "operator",
      handler: async (actor, input) => {
        const id = input.id ?? selfAgent(actor);
        if (actor.agent_id !== undefined && actor.agent_id !== id)
          throw new NonRetryableError("FORBIDDEN", "a participant agent can only deregister itself");
        const returned = await p.work.returnWork(actor.tenant, id);
        const removed = await p.directory.deregister(actor.tenant, id);
        if (!removed) throw new NonRetryableError("AGENT_NOT_FOUND", `participant agent '${id}' is not registered`);
        return { id, deregistered: true, returned_tasks: returned };
      },
    }),
    defineTool({
      name: "heartbeat",
      description: "Tell Switchyard the calling agent is alive; optionally report its status and current task.",
      input: HeartbeatInput,
      role: "operator",
      handler: (actor, input) => p.directory.heartbeat(actor.tenant, selfAgent(actor), input),
    }),
    defineTool({
      name: "find_agents",
      description: "Find participant agents by capabilities (all of), role, statuses, model type, group, recent activity.",
      input: FindAgentsInput,
      role: "viewer",
      readOnly: true,
      handler: async (actor, input) => ({ agents: await p.directory.find(actor.tenant, input) }),
    }),
    // ── Work ────────────────────────────────────────────────────────────────────────────────
    defineTool({
      name: "delegate_subtask",
      description:
        "Create a task for participant agents: for a named assignee, or for any agent with the given capabilities; " +
        "with contextual input, an optional parent task and deadline.",
      input: DelegateSubtaskInput,
      role: "operator",
      handler: (actor, input) => p.work.delegate(actor, input),
    }),
    defineTool({
      name: "claim_task",
      description:
        "Claim the oldest task delegated to the calling agent or matching its capabilities; waits up to wait_ms " +
        "(long-poll). Returns {task: null} when none came.",
      input: ClaimTaskInput,
      role: "operator",
      handler: async (actor, input, signal) => ({ task: await p.work.claim(actor.tenant, selfAgent(actor), input.wait_ms, signal) }),
    }),
    defineTool({
      name: "complete_task",
      description: "Report a claimed task done, with its result. Only the agent holding the claim may.",
      input: CompleteTaskInput,
      role: "operator",
      handler: (actor, input) => p.work.complete(actor.tenant, selfAgent(actor), input.task_id, input.result),
    }),
    defineTool({
      name: "fail_task",
      description: "Report a claimed task failed; with retry=true it goes back to the queue for another claim.",
      input: FailTaskInput,
      role: "operator",
      handler: (actor, input) => p.work.fail(actor.tenant, selfAgent(actor), input.task_id, input.error, input.retry),
    }),
    defineTool({
      name: "get_participant_task",
      description: "A participant task with its status, result and its subtasks' statuses.",
      input: GetTaskInput,
      role: "viewer",
      readOnly: true,
      handler: (actor, input) => p.work.get(actor.tenant, input.task_id),
    }),
    defineTool({
      name: "list_participant_tasks",
      description: "Participant tasks, newest first, filtered by status, parent task or claiming agent.",
      input: ListTasksInput,
      role: "viewer",
      readOnly: true,
      handler: async (actor, input) => ({ tasks: await p.work.list(actor.tenant, input) }),
    }),
    // ── Messages ────────────────────────────────────────────────────────────────────────────
    defineTool({
      name: "send_message",
      description:
        "Send a message to another agent's inbox, or to a collaboration session (its thread and every participant). " +
        "Over the per-agent limit the sender is throttled (429).",
      input: SendMessageInput,
      role: "operator",
      handler: async (actor, input) => {
        const session = input.session_id ? await p.collaboration.get(actor.tenant, input.session_id) : undefined;
        return p.inboxes.send(actor.tenant, selfAgent(actor), input, session);
      },
    }),
    defineTool({
      name: "read_messages",
      description:
        "Read the calling agent's inbox (long-poll with wait_ms). Messages stay pending until acknowledged (ack here " +
        "or with ack_messages); unacknowledged ones are delivered again later.",
      input: ReadMessagesInput,
      role: "operator",
      handler: async (actor, input, signal) => ({
        messages: await p.inboxes.read(actor.tenant, selfAgent(actor), input.max, input.wait_ms, input.ack, signal),
      }),
    }),
    defineTool({
      name: "ack_messages",
      description: "Acknowledge inbox messages: they will not be delivered again.",
      input: AckMessagesInput,
      role: "operator",
      handler: async (actor, input) => ({ acknowledged: await p.inboxes.ack(actor.tenant, selfAgent(actor), input.ids) }),
    }),
    defineTool({
      name: "request_assistance",
      description: "Ask a named agent, or every live agent with the given capabilities, for help (with an urgency).",
      input: RequestAssistanceInput,
      role: "operator",
      handler: async (actor, input) => {
        const from = selfAgent(actor);
        const targets = input.to
          ? [input.to]
          : (await p.directory.find(actor.tenant, { capabilities: input.capabilities, statuses: ["available", "working", "idle"] }))
              .map((a) => a.id)
              .filter((id) => id !== from);
        if (targets.length === 0)
          throw new NonRetryableError("AGENT_UNAVAILABLE", "no live agent has the requested capabilities", {
            details: { capabilities: input.capabilities },
          });
        const message_ids: string[] = [];
        for (const to of targets) {
          const sent = await p.inboxes.send(actor.tenant, from, {
            to,
            kind: "assistance_request",
            subject: input.subject,
            body: { urgency: input.urgency, task_id: input.task_id ?? null, body: input.body ?? null },
          });
          message_ids.push(...sent.message_ids);
        }
        return { recipients: targets, message_ids, urgency: input.urgency };
      },
    }),
    // ── Collaboration ───────────────────────────────────────────────────────────────────────
    defineTool({
      name: "create_collaboration_session",
      description: "Start a collaboration session: a title, participants, a coordinator, a shared thread and context.",
      input: CreateCollaborationSessionInput,
      role: "operator",
      handler: (actor, input) => p.collaboration.create(actor, input),
    }),
    defineTool({
      name: "get_collaboration_session",
      description: "A collaboration session with the newest messages of its thread.",
      input: GetCollaborationSessionInput,
      role: "viewer",
      readOnly: true,
      handler: async (actor, input) => ({
        ...(await p.collaboration.get(actor.tenant, input.session_id)),
        thread: await p.collaboration.thread(actor.tenant, input.session_id, input.thread_limit),
      }),
    }),
    defineTool({
      name: "evaluate_contribution",
      description: "Score an agent's contribution (named 0–10 scores and comments); stored and queryable per agent.",
      input: EvaluateContributionInput,
      role: "operator",
      handler: (actor, input) => p.collaboration.evaluate(actor, input),
    }),
    defineTool({
      name: "list_evaluations",
      description: "An agent's contribution evaluations, newest first, with the average of each score.",
      input: ListEvaluationsInput,
      role: "viewer",
      readOnly: true,
      handler: (actor, input) => p.collaboration.evaluations(actor.tenant, input.agent_id, input.limit),
    }),
    // ── File locks ──────────────────────────────────────────────────────────────────────────
    defineTool({
      name: "acquire_file_lock",
      description:
        "Lock a workspace path for the calling agent (waiting up to wait_ms). Returns a fencing token that grows with " +
        "every acquisition; the lock expires after ttl_ms unless renewed.",
      input: AcquireFileLockInput,
      role: "operator",
      handler: (actor, input, signal) => p.locks.acquire(actor.tenant, selfAgent(actor), input.path, input.ttl_ms, input.wait_ms, signal),
    }),
    defineTool({
      name: "release_file_lock",
      description: "Release a lock the calling agent holds (refused for anyone else).",
      input: ReleaseFileLockInput,
      role: "operator",
      handler: (actor, input) => p.locks.release(actor.tenant, selfAgent(actor), input.path, input.token),
    }),
    defineTool({
      name: "renew_file_lock",
      description: "Extend a lock the calling agent holds.",
      input: RenewFileLockInput,
      role: "operator",
      handler: (actor, input) => p.locks.renew(actor.tenant, selfAgent(actor), input.path, input.ttl_ms, input.token),
    }),
    defineTool({
      name: "check_file_lock",
      description: "Who holds the lock on a path, with its fencing token and remaining TTL.",
      input: CheckFileLockInput,
      role: "viewer",
      readOnly: true,
      handler: (actor, input) => p.locks.check(actor.tenant, input.path),
    }),
    // ── Projects and goals ──────────────────────────────────────────────────────────────────
    defineTool({
      name: "create_project",
      description: "Create a project (a group of goals).",
      input: CreateProjectInput,
      role: "operator",
      handler: (actor, input) => p.goals.createProject(actor, input),
    }),
    defineTool({
      name: "update_project_status",
      description: "Set a project's status (active, paused, completed, archived).",
      input: UpdateProjectStatusInput,
      role: "operator",
      handler: (actor, input) => p.goals.setProjectStatus(actor.tenant, input.project_id, input.status),
    }),
    defineTool({
      name: "get_project",
      description: "A project with its goal count and rolled-up progress.",
      input: GetProjectInput,
      role: "viewer",
      readOnly: true,
      handler: (actor, input) => p.goals.getProject(actor.tenant, input.project_id),
    }),
    defineTool({
      name: "list_projects",
      description: "Projects with their rolled-up progress.",
      input: ListProjectsInput,
      role: "viewer",
      readOnly: true,
      handler: async (actor, input) => ({ projects: await p.goals.listProjects(actor.tenant, input.status) }),
    }),
    defineTool({
      name: "create_goal",
      description: "Create a goal, optionally under a project.",
      input: CreateGoalInput,
      role: "operator",
      handler: (actor, input) => p.goals.createGoal(actor, input),
    }),
    defineTool({
      name: "update_goal_status",
      description: "Set a goal's status (open, in_progress, blocked, completed, cancelled).",
      input: UpdateGoalStatusInput,
      role: "operator",
      handler: (actor, input) => p.goals.setGoalStatus(actor.tenant, input.goal_id, input.status),
    }),
    defineTool({
      name: "link_to_goal",
      description: "Link a task, participant task or workflow run to a goal; the goal's progress rolls up from them.",
      input: LinkToGoalInput,
      role: "operator",
      handler: (actor, input) => p.goals.link(actor.tenant, input),
    }),
    defineTool({
      name: "get_goal",
      description: "A goal with the state of each linked item and its progress.",
      input: GetGoalInput,
      role: "viewer",
      readOnly: true,
      handler: (actor, input) => p.goals.getGoal(actor.tenant, input.goal_id),
    }),
    defineTool({
      name: "list_goals",
      description: "Goals, optionally of one project or status, with their progress.",
      input: ListGoalsInput,
      role: "viewer",
      readOnly: true,
      handler: async (actor, input) => ({ goals: await p.goals.listGoals(actor.tenant, input) }),
    }),
    // ── Anti-jam ────────────────────────────────────────────────────────────────────────────
    defineTool({
      name: "check_agent_responsiveness",
      description: "Agents whose last heartbeat is older than threshold_seconds (or whose heartbeat lapsed).",
      input: CheckAgentResponsivenessInput,
      role: "viewer",
      readOnly: true,
      handler: async (actor, input) => {
        const now = p.ctx.now();
        const agents = (await p.directory.list(actor.tenant)).map((agent) => {
          const silent = Math.max(0, Math.round((now - Date.parse(agent.last_heartbeat)) / 1_000));
          return {
            agent_id: agent.id,
            status: agent.status,
            last_heartbeat: agent.last_heartbeat,
            seconds_since_heartbeat: silent,
            responsive: agent.status !== "offline" && silent <= input.threshold_seconds,
          };
        });
        return { threshold_seconds: input.threshold_seconds, unresponsive: agents.filter((a) => !a.responsive), agents };
      },
    }),
    defineTool({
      name: "check_message_recipient_status",
      description: "Are the agents the caller is messaging alive, and how much of its mail is unread or unacknowledged?",
      input: CheckMessageRecipientStatusInput,
      role: "viewer",
      readOnly: true,
      handler: async (actor, input) => {
        const ids = input.agent_ids ?? (await p.inboxes.recentRecipients(actor.tenant, selfAgent(actor), p.ctx.now() - 3_600_000));
        const recipients = await Promise.all(
          ids.map(async (id) => {
            const agent = await p.directory.get(actor.tenant, id);
            return {
              agent_id: id,
              registered: agent !== undefined,
              status: agent?.status ?? "offline",
              last_heartbeat: agent?.last_heartbeat ?? null,
              unread: await p.inboxes.unread(actor.tenant, id),
              unacknowledged: await p.inboxes.unacknowledged(actor.tenant, id),
            };
          }),
        );
        return { recipients, all_alive: recipients.every((r) => r.status !== "offline") };
      },
    }),
    defineTool({
      name: "check_message_frequency",
      description: "How many messages an agent (default: the caller) sent in the last minute against its limit.",
      input: CheckMessageFrequencyInput,
      role: "viewer",
      readOnly: true,
      handler: (actor, input) => p.inboxes.frequency(actor.tenant, input.agent_id ?? selfAgent(actor)),
    }),
    defineTool({
      name: "check_delegation_deadlocks",
      description: "Cycles in the delegation wait-for graph (A waits on B waits on A).",
      input: CheckDelegationDeadlocksInput,
      role: "viewer",
      readOnly: true,
      handler: async (actor) => {
        const deadlocks = await p.graph.cycles(actor.tenant);
        return { deadlocked: deadlocks.length > 0, deadlocks, edges: await p.graph.edges(actor.tenant) };
      },
    }),
    defineTool({
      name: "list_coordination_events",
      description: "Coordination events: agents going offline, work returned or re-delegated, flooding, deadlocks, deadlines.",
      input: ListEventsInput,
      role: "viewer",
      readOnly: true,
      handler: async (actor, input) => ({ events: await p.events.list(actor.tenant, input.after, input.limit) }),
    }),
  ];
  return tools as OrchestrationTool[];
}

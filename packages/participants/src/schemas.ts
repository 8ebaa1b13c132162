import { AgentName } from "@switchyard/core";
import { z } from "zod";

/**
 * Records the participants package stores and the inputs of its tools. Each tool input is the
 * one schema behind both the REST body and the MCP tool's input schema.
 */

export const PARTICIPANT_STATUSES = ["available", "working", "idle", "offline", "error"] as const;
export const ParticipantStatus = z.enum(PARTICIPANT_STATUSES);
export type ParticipantStatus = z.infer<typeof ParticipantStatus>;

/** Statuses an agent may report itself; `offline` is only ever derived from a lapsed heartbeat. */
export const ReportedStatus = z.enum(["available", "working", "idle", "error"]);

const Capability = z.string().min(1).max(64);
const Capabilities = z.array(Capability).max(64);
const Label = z.string().min(1).max(200);
const TaskId = z.string().regex(/^ptk_[0-9a-z]{26}$/, "must be a participant task id (ptk_…)");
const Json = z.record(z.string(), z.unknown());

export const AgentLimits = z.strictObject({
  max_claimed_tasks: z.number().int().min(1).optional(),
  max_messages_per_minute: z.number().int().min(1).optional(),
});

export const ParticipantAgent = z.object({
  id: AgentName,
  name: z.string(),
  role: z.string(),
  model_type: z.string(),
  model_version: z.string(),
  capabilities: z.array(z.string()),
  group: z.string(),
  status: ParticipantStatus,
  current_task: z.string().nullable(),
  registered_at: z.string(),
  last_heartbeat: z.string(),
  limits: z.object({ max_claimed_tasks: z.number().int(), max_messages_per_minute: z.number().int() }),
  key_id: z.string(),
});
export type ParticipantAgent = z.infer<typeof ParticipantAgent>;

/** What Redis holds: the view plus the hash of the agent's key (never returned). */
export const StoredAgent = ParticipantAgent.extend({ key_hash: z.string() });
export type StoredAgent = z.infer<typeof StoredAgent>;

export const RegisterAgentInput = z.strictObject({
  id: AgentName,
  name: Label.optional(),
  role: z.string().max(100).default("worker"),
  model_type: z.string().max(100).default(""),
  model_version: z.string().max(100).default(""),
  capabilities: Capabilities.default([]),
  group: z.string().max(100).default(""),
  limits: AgentLimits.optional(),
});

export const DeregisterAgentInput = z.strictObject({
  /** Defaults to the calling agent; an operator key may name any agent of its tenant. */
  id: AgentName.optional(),
});

export const HeartbeatInput = z.strictObject({
  status: ReportedStatus.optional(),
  current_task: z.string().max(100).nullable().optional(),
});

export const FindAgentsInput = z.strictObject({
  /** The agent must have all of them. */
  capabilities: Capabilities.optional(),
  role: z.string().max(100).optional(),
  statuses: z.array(ParticipantStatus).optional(),
  model_type: z.string().max(100).optional(),
  group: z.string().max(100).optional(),
  active_within_seconds: z.number().int().min(1).optional(),
});

export const PARTICIPANT_TASK_STATUSES = ["pending", "claimed", "completed", "failed"] as const;
export const ParticipantTaskStatus = z.enum(PARTICIPANT_TASK_STATUSES);
export type ParticipantTaskStatus = z.infer<typeof ParticipantTaskStatus>;

export const TaskError = z.strictObject({
  message: z.string().min(1).max(4_000),
  code: z.string().max(64).optional(),
});

export const ParticipantTask = z.object({
  task_id: z.string(),
  title: z.string(),
  description: z.string(),
  input: Json,
  capabilities: z.array(z.string()),
  assignee: z.string().nullable(),
  delegated_by: z.string(),
  parent_task_id: z.string().nullable(),
  deadline: z.string().nullable(),
  status: ParticipantTaskStatus,
  claimed_by: z.string().nullable(),
  attempts: z.number().int(),
  result: z.unknown().optional(),
  error: TaskError.optional(),
  created_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().nullable(),
  children: z.array(z.object({ task_id: z.string(), status: ParticipantTaskStatus })).optional(),
});
export type ParticipantTask = z.infer<typeof ParticipantTask>;

export const DelegateSubtaskInput = z.strictObject({
  title: Label,
  description: z.string().max(20_000).default(""),
  /** Contextual data the assignee needs. */
  input: Json.default({}),
  /** A specific agent; without it any agent having all `capabilities` may claim the task. */
  assignee: AgentName.optional(),
  capabilities: Capabilities.default([]),
  parent_task_id: TaskId.optional(),
  /** ISO 8601 time after which an unfinished task fails with TIMEOUT. */
  deadline: z.iso.datetime({ offset: true }).optional(),
});

export const ClaimTaskInput = z.strictObject({
  /** Long-poll: wait up to this long for a task (capped by `participants.max_wait_ms`). */
  wait_ms: z.number().int().min(0).default(0),
});

export const CompleteTaskInput = z.strictObject({ task_id: TaskId, result: z.unknown().optional() });
export const FailTaskInput = z.strictObject({
  task_id: TaskId,
  error: TaskError,
  /** Put the task back for another claim instead of failing it. */
  retry: z.boolean().default(false),
});
export const GetTaskInput = z.strictObject({ task_id: TaskId });
export const ListTasksInput = z.strictObject({
  status: ParticipantTaskStatus.optional(),
  parent_task_id: TaskId.optional(),
  claimed_by: AgentName.optional(),
  limit: z.number().int().min(1).max(500).default(100),
});

export const URGENCIES = ["low", "normal", "high", "critical"] as const;
export const RequestAssistanceInput = z
  .strictObject({
    to: AgentName.optional(),
    capabilities: Capabilities.optional(),
    urgency: z.enum(URGENCIES).default("normal"),
    subject: Label,
    body: z.unknown().optional(),
    task_id: TaskId.optional(),
  })
  .refine((v) => v.to !== undefined || (v.capabilities?.length ?? 0) > 0, "give `to` or `capabilities`");

export const SendMessageInput = z
  .strictObject({
    to: AgentName.optional(),
    /** Post to a collaboration session: the thread and every participant's inbox. */
    session_id: z
      .string()
      .regex(/^ses_[0-9a-z]{26}$/)
      .optional(),
    kind: z.string().min(1).max(64).default("message"),
    subject: z.string().max(500).default(""),
    body: z.unknown(),
  })
  .refine((v) => (v.to === undefined) !== (v.session_id === undefined), "give exactly one of `to` and `session_id`");

export const StreamId = z.string().regex(/^\d+-\d+$/, "must be a message id");
export const ReadMessagesInput = z.strictObject({
  max: z.number().int().min(1).max(500).default(50),
  wait_ms: z.number().int().min(0).default(0),
  /** Acknowledge these (earlier read) messages first. */
  ack: z.array(StreamId).max(500).default([]),
});
export const AckMessagesInput = z.strictObject({ ids: z.array(StreamId).min(1).max(500) });

export const InboxMessage = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  kind: z.string(),
  subject: z.string(),
  body: z.unknown(),
  session_id: z.string().nullable(),
  sent_at: z.string(),
  /** How many times this message was handed out (>1 after a reader died before acknowledging). */
  deliveries: z.number().int(),
});
export type InboxMessage = z.infer<typeof InboxMessage>;

export const CreateCollaborationSessionInput = z.strictObject({
  title: Label,
  participants: z.array(AgentName).min(1).max(100),
  coordinator: AgentName.optional(),
  context: Json.default({}),
});
export const GetCollaborationSessionInput = z.strictObject({
  session_id: z.string().regex(/^ses_[0-9a-z]{26}$/),
  thread_limit: z.number().int().min(0).max(1_000).default(100),
});
export const CollaborationSession = z.object({
  session_id: z.string(),
  title: z.string(),
  participants: z.array(z.string()),
  coordinator: z.string(),
  context: Json,
  created_by: z.string(),
  created_at: z.string(),
});
export type CollaborationSession = z.infer<typeof CollaborationSession>;

export const EvaluateContributionInput = z.strictObject({
  agent_id: AgentName,
  task_id: TaskId.optional(),
  session_id: z.string().optional(),
  /** Named scores, 0–10 each (e.g. quality, speed, collaboration). */
  scores: z.record(z.string().min(1).max(64), z.number().min(0).max(10)),
  comments: z.string().max(10_000).default(""),
});
export const ListEvaluationsInput = z.strictObject({
  agent_id: AgentName,
  limit: z.number().int().min(1).max(500).default(50),
});
export const Evaluation = z.object({
  agent_id: z.string(),
  evaluator: z.string(),
  task_id: z.string().nullable(),
  session_id: z.string().nullable(),
  scores: z.record(z.string(), z.number()),
  comments: z.string(),
  created_at: z.string(),
});
export type Evaluation = z.infer<typeof Evaluation>;

const LockPath = z.string().min(1).max(1_024);
export const AcquireFileLockInput = z.strictObject({
  path: LockPath,
  ttl_ms: z.number().int().min(100).default(60_000),
  /** Wait up to this long for the lock (0: answer at once). */
  wait_ms: z.number().int().min(0).default(0),
});
export const ReleaseFileLockInput = z.strictObject({ path: LockPath, token: z.string().regex(/^\d+$/).optional() });
export const CheckFileLockInput = z.strictObject({ path: LockPath });
export const RenewFileLockInput = z.strictObject({
  path: LockPath,
  token: z.string().regex(/^\d+$/).optional(),
  ttl_ms: z.number().int().min(100).default(60_000),
});

export const PROJECT_STATUSES = ["active", "paused", "completed", "archived"] as const;
export const GOAL_STATUSES = ["open", "in_progress", "blocked", "completed", "cancelled"] as const;
export const GOAL_LINK_KINDS = ["task", "participant_task", "run"] as const;
export type GoalLinkKind = (typeof GOAL_LINK_KINDS)[number];

export const CreateProjectInput = z.strictObject({ name: Label, description: z.string().max(20_000).default("") });
export const UpdateProjectStatusInput = z.strictObject({ project_id: z.string(), status: z.enum(PROJECT_STATUSES) });
export const ListProjectsInput = z.strictObject({ status: z.enum(PROJECT_STATUSES).optional() });
export const GetProjectInput = z.strictObject({ project_id: z.string() });
export const CreateGoalInput = z.strictObject({
  title: Label,
  description: z.string().max(20_000).default(""),
  project_id: z.string().optional(),
});
export const UpdateGoalStatusInput = z.strictObject({ goal_id: z.string(), status: z.enum(GOAL_STATUSES) });
export const ListGoalsInput = z.strictObject({
  project_id: z.string().optional(),
  status: z.enum(GOAL_STATUSES).optional(),
});
export const GetGoalInput = z.strictObject({ goal_id: z.string() });
export const LinkToGoalInput = z.strictObject({
  goal_id: z.string(),
  kind: z.enum(GOAL_LINK_KINDS),
  id: z.string().min(1).max(100),
});

export const Project = z.object({
  project_id: z.string(),
  name: z.string(),
  description: z.string(),
  status: z.enum(PROJECT_STATUSES),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Project = z.infer<typeof Project>;

export const Goal = z.object({
  goal_id: z.string(),
  project_id: z.string().nullable(),
  title: z.string(),
  description: z.string(),
  status: z.enum(GOAL_STATUSES),
  links: z.array(z.object({ kind: z.enum(GOAL_LINK_KINDS), id: z.string() })),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Goal = z.infer<typeof Goal>;

export const CheckAgentResponsivenessInput = z.strictObject({
  threshold_seconds: z.number().int().min(1).default(60),
});
export const CheckMessageRecipientStatusInput = z.strictObject({
  /** Defaults to everyone the caller messaged in the last hour. */
  agent_ids: z.array(AgentName).max(200).optional(),
});
export const CheckMessageFrequencyInput = z.strictObject({
  /** Defaults to the caller. */
  agent_id: AgentName.optional(),
});
export const CheckDelegationDeadlocksInput = z.strictObject({});
export const ListEventsInput = z.strictObject({
  /** Only events after this id (from an earlier answer). */
  after: StreamId.optional(),
  limit: z.number().int().min(1).max(1_000).default(100),
});

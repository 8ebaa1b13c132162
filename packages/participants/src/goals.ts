import { NonRetryableError, newId, type ToolActor } from "@switchyard/core";
import type { z } from "zod";
import { actorLabel, iso, type ParticipantContext } from "./context.js";
import { type CreateGoalInput, type CreateProjectInput, Goal, type GoalLinkKind, type LinkToGoalInput, Project } from "./schemas.js";

/** How a linked item stands, for progress roll-ups. */
export type LinkState = "completed" | "failed" | "active" | "unknown";

/**
 * Resolves the state of something linked to a goal. The participants package knows its own
 * tasks; the api passes one that also knows REST tasks and workflow runs.
 */
export type LinkResolver = (tenant: string, kind: GoalLinkKind, id: string) => Promise<LinkState>;

export interface GoalProgress {
  total: number;
  completed: number;
  failed: number;
  active: number;
  unknown: number;
  /** completed / total (0 when nothing is linked), 0–1. */
  ratio: number;
}

export type GoalView = Omit<Goal, "links"> & { progress: GoalProgress; links: (Goal["links"][number] & { state: LinkState })[] };
export type ProjectView = Project & { goals: number; progress: GoalProgress };

/** Projects and goals: one hash each per tenant (id → JSON); progress is computed on read. */
export class ProjectsAndGoals {
  constructor(
    private readonly ctx: ParticipantContext,
    private readonly resolve: LinkResolver,
  ) {}

  async createProject(actor: ToolActor, input: z.infer<typeof CreateProjectInput>): Promise<ProjectView> {
    const now = iso(this.ctx.now());
    const project: Project = {
      project_id: newId("prj"),
      name: input.name,
      description: input.description,
      status: "active",
      created_by: actorLabel(actor),
      created_at: now,
      updated_at: now,
    };
    await this.ctx.redis.hset(this.ctx.keys.projects(actor.tenant), project.project_id, JSON.stringify(project));
    return this.projectView(actor.tenant, project);
  }

  async setProjectStatus(tenant: string, id: string, status: Project["status"]): Promise<ProjectView> {
    const project = await this.project(tenant, id);
    project.status = status;
    project.updated_at = iso(this.ctx.now());
    await this.ctx.redis.hset(this.ctx.keys.projects(tenant), id, JSON.stringify(project));
    return this.projectView(tenant, project);
  }

  async getProject(tenant: string, id: string): Promise<ProjectView> {
    return this.projectView(tenant, await this.project(tenant, id));
  }

  async listProjects(tenant: string, status?: Project["status"]): Promise<ProjectView[]> {
    const raw = await this.ctx.redis.hvals(this.ctx.keys.projects(tenant));
    const projects = raw.map((json) => Project.parse(JSON.parse(json))).filter((p) => status === undefined || p.status === status);
    projects.sort((a, b) => a.project_id.localeCompare(b.project_id));
    return Promise.all(projects.map((p) => this.projectView(tenant, p)));
  }

  async createGoal(actor: ToolActor, input: z.infer<typeof CreateGoalInput>): Promise<GoalView> {
    if (input.project_id) await this.project(actor.tenant, input.project_id);
    const now = iso(this.ctx.now());
    const goal: Goal = {
      goal_id: newId("gol"),
      project_id: input.project_id ?? null,
      title: input.title,
      description: input.description,
      status: "open",
      links: [],
      created_by: actorLabel(actor),
      created_at: now,
      updated_at: now,
    };
    await this.saveGoal(actor.tenant, goal);
    return this.goalView(actor.tenant, goal);
  }

  async setGoalStatus(tenant: string, id: string, status: Goal["status"]): Promise<GoalView> {
    const goal = await this.goal(tenant, id);
    goal.status = status;
    goal.updated_at = iso(this.ctx.now());
    await this.saveGoal(tenant, goal);
    return this.goalView(tenant, goal);
  }

  async link(tenant: string, input: z.infer<typeof LinkToGoalInput>): Promise<GoalView> {
    const goal = await this.goal(tenant, input.goal_id);
    if (!goal.links.some((l) => l.kind === input.kind && l.id === input.id)) {
      goal.links.push({ kind: input.kind, id: input.id });
      goal.updated_at = iso(this.ctx.now());
      // Linking is a read-modify-write of one small record; a lost concurrent link is re-sent by
      // its caller, who sees it missing in the answer.
      await this.saveGoal(tenant, goal);
    }
    return this.goalView(tenant, goal);
  }

  async getGoal(tenant: string, id: string): Promise<GoalView> {
    return this.goalView(tenant, await this.goal(tenant, id));
  }

  async listGoals(tenant: string, filter: { project_id?: string | undefined; status?: Goal["status"] | undefined }): Promise<GoalView[]> {
    const goals = (await this.allGoals(tenant)).filter(
      (g) =>
        (filter.project_id === undefined || g.project_id === filter.project_id) &&
        (filter.status === undefined || g.status === filter.status),
    );
    return Promise.all(goals.map((g) => this.goalView(tenant, g)));
  }

  private async allGoals(tenant: string): Promise<Goal[]> {
    const raw = await this.ctx.redis.hvals(this.ctx.keys.goals(tenant));
    return raw.map((json) => Goal.parse(JSON.parse(json))).sort((a, b) => a.goal_id.localeCompare(b.goal_id));
  }

  private async goalView(tenant: string, goal: Goal): Promise<GoalView> {
    const links = await Promise.all(goal.links.map(async (link) => ({ ...link, state: await this.resolve(tenant, link.kind, link.id) })));
    const progress = rollUp(links.map((l) => l.state));
    // A goal marked completed counts as done whatever its links say.
    if (goal.status === "completed") progress.ratio = 1;
    return { ...goal, links, progress };
  }

  private async projectView(tenant: string, project: Project): Promise<ProjectView> {
    const goals = await this.listGoals(tenant, { project_id: project.project_id });
    const states = goals.flatMap((g) => (g.links.length > 0 ? g.links.map((l) => l.state) : []));
    const progress = rollUp(states);
    // The project's ratio is the mean of its goals' ratios: each goal weighs the same.
    progress.ratio = goals.length === 0 ? 0 : round(goals.reduce((sum, g) => sum + g.progress.ratio, 0) / goals.length);
    return { ...project, goals: goals.length, progress };
  }

  private async project(tenant: string, id: string): Promise<Project> {
    const json = await this.ctx.redis.hget(this.ctx.keys.projects(tenant), id);
    if (!json) throw new NonRetryableError("NOT_FOUND", `no project '${id}'`);
    return Project.parse(JSON.parse(json));
  }

  private async goal(tenant: string, id: string): Promise<Goal> {
    const json = await this.ctx.redis.hget(this.ctx.keys.goals(tenant), id);
    if (!json) throw new NonRetryableError("NOT_FOUND", `no goal '${id}'`);
    return Goal.parse(JSON.parse(json));
  }

  private async saveGoal(tenant: string, goal: Goal): Promise<void> {
    await this.ctx.redis.hset(this.ctx.keys.goals(tenant), goal.goal_id, JSON.stringify(goal));
  }
}

function rollUp(states: LinkState[]): GoalProgress {
  const count = (s: LinkState) => states.filter((x) => x === s).length;
  const completed = count("completed");
  return {
    total: states.length,
    completed,
    failed: count("failed"),
    active: count("active"),
    unknown: count("unknown"),
    ratio: states.length === 0 ? 0 : round(completed / states.length),
  };
}

function round(n: number): number {
  return Math.round(n * 1_000) / 1_000;
}

import { IdempotencyKey, SubmitTaskRequest, TaskView } from "@switchyard/core";
import type { TaskEventHub, TaskQueueEvent, TaskService } from "@switchyard/tasks";
import { Router } from "express";
import { principalOf } from "../auth.js";
import { httpError } from "../http-errors.js";
import type { RouteTable } from "../route-table.js";
import { CancelReply, ListTasksQuery, SubmitTaskReply, TaskList } from "../schemas.js";

const ID = { id: "Task id (tsk_…)" };
const FINAL = new Set(["completed", "failed", "cancelled"]);
const SSE_HEARTBEAT_MS = 15_000;

export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const parsed = IdempotencyKey.safeParse(Array.isArray(header) ? header[0] : header);
  if (!parsed.success) throw httpError("VALIDATION_FAILED", "Idempotency-Key: must be 1-255 characters", { in: "headers" });
  return parsed.data;
}

export function tasksRouter(tasks: TaskService, events: TaskEventHub, routes: RouteTable): Router {
  const router = Router();

  routes.add(
    router,
    {
      method: "post",
      path: "/tasks",
      operationId: "submitTask",
      summary: "Submit a task",
      description:
        "Runs `tool_name` on `agent_name`, or on the least-loaded healthy agent with `capability`. Arguments are validated " +
        "against the tool's JSON Schema before anything is queued. With an Idempotency-Key (header or field), a repeat " +
        "within the window returns the same task with 200 and enqueues nothing.",
      tag: "Tasks",
      role: "operator",
      body: SubmitTaskRequest,
      headers: { "Idempotency-Key": "Makes the submission safe to retry (1-255 characters)" },
      responses: {
        201: { description: "Queued", schema: SubmitTaskReply, headers: { Location: "The task's URL" } },
        200: { description: "Replay of an earlier submission with the same Idempotency-Key", schema: SubmitTaskReply },
        409: { description: "The Idempotency-Key was used for a different request" },
      },
    },
    async (req, res, { body }) => {
      const created = await tasks.submit(principalOf(req), body, { idempotencyKey: idempotencyKeyOf(req.headers["idempotency-key"]) });
      const { replayed, ...reply } = created;
      res.locals.auditTarget = reply.task_id;
      res
        .status(replayed ? 200 : 201)
        .location(`${req.baseUrl}/tasks/${reply.task_id}`)
        .json(reply);
    },
  );

  routes.add(
    router,
    {
      method: "get",
      path: "/tasks",
      operationId: "listTasks",
      summary: "List the tenant's tasks, newest first",
      tag: "Tasks",
      role: "viewer",
      query: ListTasksQuery,
      responses: { 200: { description: "A page of tasks; pass next_cursor as cursor for the next", schema: TaskList } },
    },
    async (req, res, { query }) => {
      res.json(await tasks.list(principalOf(req), query));
    },
  );

  routes.add(
    router,
    {
      method: "get",
      path: "/tasks/:id",
      operationId: "getTask",
      summary: "One task: status, result or error, attempts, timestamps",
      tag: "Tasks",
      role: "viewer",
      params: ID,
      responses: { 200: { description: "The task", schema: TaskView } },
    },
    async (req, res) => {
      res.json(await tasks.get(principalOf(req), String(req.params.id)));
    },
  );

  routes.add(
    router,
    {
      method: "post",
      path: "/tasks/:id/cancel",
      operationId: "cancelTask",
      summary: "Cancel a task",
      description:
        "A queued task is removed at once (200, status `cancelled`). A running one is aborted by its worker (202); it " +
        "ends `cancelled`. A finished task answers 409.",
      tag: "Tasks",
      role: "operator",
      params: ID,
      responses: {
        200: { description: "Cancelled", schema: CancelReply },
        202: { description: "Running: the worker was asked to abort it", schema: CancelReply },
        409: { description: "The task already finished" },
      },
    },
    async (req, res) => {
      const id = String(req.params.id);
      res.locals.auditTarget = id;
      const result = await tasks.cancel(principalOf(req), id);
      if (result.outcome === "cancelled") res.json(result.task);
      else res.status(202).json({ ...result.task, cancel_requested: true });
    },
  );

  routes.add(
    router,
    {
      method: "get",
      path: "/tasks/:id/events",
      operationId: "streamTaskEvents",
      summary: "Stream a task's status changes and progress (Server-Sent Events)",
      description:
        "`event: status` carries `{task_id, status}` on each change; the first and the final one carry the whole task; `event: progress` carries " +
        "progress, streamed tokens and log lines. The stream ends after the final status.",
      tag: "Tasks",
      role: "viewer",
      params: ID,
      responses: { 200: { description: "An event stream", contentType: "text/event-stream" } },
    },
    async (req, res) => {
      const principal = principalOf(req);
      const id = String(req.params.id);
      const agent = await tasks.agentOf(principal, id);
      let ended = false;
      let lastStatus: string | undefined;
      let ready = false;
      const pending: TaskQueueEvent[] = [];
      let heartbeat: NodeJS.Timeout | undefined;
      let unsubscribe = () => {};
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe();
        res.end();
      };
      const send = (event: string, data: unknown) => {
        if (!ended) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const sendStatus = (view: Pick<TaskView, "task_id" | "status">) => {
        if (view.status !== lastStatus) send("status", view);
        lastStatus = view.status;
        if (FINAL.has(view.status)) end();
      };
      // Final states are read back in order (the full task, with its result); intermediate ones
      // are relayed as they come, so a fast task still shows queued → running → completed.
      let reads = Promise.resolve();
      const handle = (event: TaskQueueEvent) => {
        if (!ready) {
          pending.push(event);
          return;
        }
        switch (event.type) {
          case "progress":
            send("progress", event.event);
            return;
          case "queued":
          case "running":
            if (!FINAL.has(lastStatus ?? "")) sendStatus({ task_id: id, status: event.type });
            return;
          case "finished":
          case "removed":
            reads = reads.then(() => tasks.get(principal, id).then(sendStatus, end));
            return;
        }
      };
      // A client gone before the subscription is up must not leave a listener behind.
      res.on("close", end);
      const stop = await events.subscribe(agent, id, handle);
      unsubscribe = stop;
      if (ended) {
        stop();
        return;
      }
      let view: TaskView;
      try {
        view = await tasks.get(principal, id);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      if (ended) return;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.flushHeaders();
      heartbeat = setInterval(() => {
        if (!ended) res.write(": keep-alive\n\n");
      }, SSE_HEARTBEAT_MS);
      heartbeat.unref();
      sendStatus(view);
      ready = true;
      for (const event of pending.splice(0)) handle(event);
    },
  );

  return router;
}

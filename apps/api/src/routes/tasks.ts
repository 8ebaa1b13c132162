import { SubmitTaskRequest, TaskStatus } from "@switchyard/core";
import type { TaskService } from "@switchyard/tasks";
import { Router } from "express";
import { z } from "zod";
import { principalOf, requireRole } from "../auth.js";
import { parseOr400 } from "../validation.js";

const ListTasksQuery = z.strictObject({
  agent: z.string().max(63).optional(),
  status: TaskStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(64).optional(),
});

export function tasksRouter(tasks: TaskService): Router {
  const router = Router();

  router.post("/tasks", requireRole("operator"), async (req, res) => {
    const body = parseOr400(SubmitTaskRequest, req.body, "body");
    const created = await tasks.submit(principalOf(req), body);
    res.status(201).location(`${req.baseUrl}/tasks/${created.task_id}`).json(created);
  });

  router.get("/tasks", requireRole("viewer"), async (req, res) => {
    const query = parseOr400(ListTasksQuery, req.query, "query");
    res.json(await tasks.list(principalOf(req), query));
  });

  router.get("/tasks/:id", requireRole("viewer"), async (req, res) => {
    res.json(await tasks.get(principalOf(req), String(req.params.id)));
  });

  return router;
}

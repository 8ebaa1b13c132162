// A second floor: the least an HTTP API in front of BullMQ can be. Express with express.json()
// and two routes, no auth, validation, admission or audit:
//   POST /tasks          Queue.add, answers 201 {task_id} (the floor under POST /api/v1/tasks);
//   POST /invoke/:tool   Queue.add, waits for the job's `completed` event on the queue's event
//                        stream, answers 200 with its return value (the floor under /invoke).
// Measured like Switchyard's api, it shows how much of a gap is the HTTP hop itself.
// usage: node bare-api.mjs <redisUrl> <prefix> <queue>
import { randomUUID } from "node:crypto";
import { Queue, QueueEvents } from "bullmq";
import express from "express";
import { Redis } from "ioredis";

const [url, prefix, queueName] = process.argv.slice(2);
const connection = new Redis(url, { maxRetriesPerRequest: null, enableAutoPipelining: true });
const queue = new Queue(queueName, { connection, prefix });
const options = JSON.parse(process.env.JOB_OPTIONS ?? "{}");

// One event reader for the process; a waiter is registered before its job is added.
const events = new QueueEvents(queueName, { connection: new Redis(url, { maxRetriesPerRequest: null }), prefix });
await events.waitUntilReady();
const waiters = new Map();
const settle = (jobId, outcome) => {
  const waiter = waiters.get(jobId);
  if (!waiter) return;
  waiters.delete(jobId);
  waiter(outcome);
};
events.on("completed", ({ jobId, returnvalue }) => settle(jobId, { ok: true, value: returnvalue }));
events.on("failed", ({ jobId, failedReason }) => settle(jobId, { ok: false, value: failedReason }));

const app = express();
app.use(express.json());
app.post("/tasks", async (req, res) => {
  const job = await queue.add(req.body.tool_name, { arguments: req.body.arguments }, { ...options, jobId: randomUUID() });
  res.status(201).json({ task_id: job.id, status: "queued" });
});
app.post("/invoke/:tool", async (req, res) => {
  const jobId = randomUUID();
  const done = new Promise((resolve) => waiters.set(jobId, resolve));
  await queue.add(req.params.tool, { tool: req.params.tool, arguments: req.body.arguments }, { ...options, jobId });
  const outcome = await done;
  if (outcome.ok) res.status(200).json({ result: outcome.value });
  else res.status(502).json({ error: outcome.value });
});
const server = app.listen(0, "127.0.0.1", () => console.log(`bare api http://127.0.0.1:${server.address().port}`));
server.keepAliveTimeout = 65_000;
process.on("SIGTERM", async () => {
  server.close();
  await events.close();
  await queue.close();
  connection.disconnect();
  process.exit(0);
});

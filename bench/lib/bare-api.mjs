// A second floor: the least an HTTP API in front of BullMQ can be. Express with express.json(),
// one route that calls Queue.add and answers 201 {task_id} (no auth, validation, admission or
// audit). Measured like Switchyard's api, it shows how much of the gap to raw BullMQ is the HTTP
// hop itself. usage: node bare-api.mjs <redisUrl> <prefix> <queue>
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import express from "express";
import { Redis } from "ioredis";

const [url, prefix, queueName] = process.argv.slice(2);
const connection = new Redis(url, { maxRetriesPerRequest: null, enableAutoPipelining: true });
const queue = new Queue(queueName, { connection, prefix });
const options = JSON.parse(process.env.JOB_OPTIONS ?? "{}");
const app = express();
app.use(express.json());
app.post("/tasks", async (req, res) => {
  const job = await queue.add(req.body.tool_name, { arguments: req.body.arguments }, { ...options, jobId: randomUUID() });
  res.status(201).json({ task_id: job.id, status: "queued" });
});
const server = app.listen(0, "127.0.0.1", () => console.log(`bare api http://127.0.0.1:${server.address().port}`));
server.keepAliveTimeout = 65_000;
process.on("SIGTERM", async () => {
  server.close();
  await queue.close();
  connection.disconnect();
  process.exit(0);
});

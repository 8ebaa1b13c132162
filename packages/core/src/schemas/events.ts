import { z } from "zod";

/**
 * Events a running task reports while it works. The worker publishes each one as the BullMQ
 * job's progress (so it travels on the queue's event stream to every api replica), and the task's
 * SSE stream relays it. Token events carry streamed LLM output; the full result is still stored.
 */
export const TaskProgressEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("progress"), progress: z.number(), total: z.number().optional(), message: z.string().optional() }),
  z.object({ type: z.literal("token"), text: z.string(), index: z.number().int().optional() }),
  z.object({ type: z.literal("log"), level: z.enum(["debug", "info", "warn", "error"]), message: z.string() }),
  /** One transcript entry of an agent run (assistant turn, tool call, tool result). */
  z.object({ type: z.literal("agent_step"), step: z.number().int(), entry: z.record(z.string(), z.unknown()) }),
]);
export type TaskProgressEvent = z.infer<typeof TaskProgressEvent>;

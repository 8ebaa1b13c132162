import { AgentName, type ToolDescriptor } from "@switchyard/core";
import { z } from "zod";

/**
 * The tools a provider agent offers. Each tool's arguments are one zod schema: the worker parses
 * with it and the published JSON Schema (which the api validates against before enqueueing) is
 * generated from it, so the two cannot drift.
 */

const Part = z.union([
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({ type: z.literal("image"), url: z.string().min(1) }),
  // OpenAI's spelling, accepted for convenience.
  z.object({ type: z.literal("image_url"), image_url: z.object({ url: z.string().min(1) }) }),
]);

const ToolCallArg = z.object({ id: z.string(), name: z.string(), arguments: z.record(z.string(), z.unknown()) });

export const MessageArg = z.object({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(Part), z.null()]).optional(),
  tool_calls: z.array(ToolCallArg).optional(),
  tool_call_id: z.string().optional(),
  is_error: z.boolean().optional(),
});
export type MessageArg = z.infer<typeof MessageArg>;

const ResponseFormatArg = z.union([
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({ name: z.string().min(1), schema: z.record(z.string(), z.unknown()), strict: z.boolean().optional() }),
  }),
]);

const ToolSpecArg = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  description: z.string().default(""),
  input_schema: z.record(z.string(), z.unknown()).default({ type: "object" }),
});

const sampling = {
  system: z.string().optional().describe("System prompt"),
  model: z.string().min(1).optional().describe("Model; defaults to the agent's configured model"),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop: z.array(z.string()).max(8).optional(),
  stream: z.boolean().optional().describe("Stream tokens to the task's event stream; the full result is still stored"),
  fallback: z
    .array(AgentName)
    .max(10)
    .optional()
    .describe("Agents to try, in order, when this one fails transiently or its circuit is open"),
};

export const ChatCompletionArgs = z.strictObject({
  messages: z.array(MessageArg).min(1).optional(),
  prompt: z.string().min(1).optional(),
  ...sampling,
  response_format: ResponseFormatArg.optional(),
  tools: z.array(ToolSpecArg).max(128).optional().describe("Function tools the model may call (name, description, input_schema)"),
  tool_choice: z.union([z.enum(["auto", "none", "required"]), z.object({ name: z.string() })]).optional(),
});
export type ChatCompletionArgs = z.infer<typeof ChatCompletionArgs>;

export const GenerateTextArgs = z.strictObject({ prompt: z.string().min(1), ...sampling });
export type GenerateTextArgs = z.infer<typeof GenerateTextArgs>;

export const EmbedTextArgs = z.strictObject({
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(2_048)]),
  model: z.string().min(1).optional(),
});
export type EmbedTextArgs = z.infer<typeof EmbedTextArgs>;

export const AnalyzeImageArgs = z.strictObject({
  image_url: z.string().min(1).optional().describe("http(s) or data: URL"),
  image_base64: z.string().min(1).optional(),
  media_type: z.enum(["image/png", "image/jpeg", "image/gif", "image/webp"]).optional(),
  prompt: z.string().min(1).default("Describe this image."),
  ...sampling,
});
export type AnalyzeImageArgs = z.infer<typeof AnalyzeImageArgs>;

export const AgentRunArgs = z.strictObject({
  messages: z.array(MessageArg).min(1).optional(),
  prompt: z.string().min(1).optional(),
  tools: z
    .array(z.string().regex(/^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_.*-]+)?$/))
    .max(64)
    .default([])
    .describe('Catalog tools the model may call: "agent.tool", "agent.*" or "*"'),
  max_steps: z.number().int().min(1).max(50).default(8).describe("Model turns before the run stops"),
  tool_timeout_ms: z.number().int().min(1).max(3_600_000).optional(),
  ...sampling,
});
export type AgentRunArgs = z.infer<typeof AgentRunArgs>;

const promptOrMessages = { anyOf: [{ required: ["prompt"] }, { required: ["messages"] }] };
const imageSource = { anyOf: [{ required: ["image_url"] }, { required: ["image_base64"] }] };

function jsonSchema(schema: z.ZodType, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { $schema: _, ...out } = z.toJSONSchema(schema, { target: "draft-7", io: "input" }) as Record<string, unknown>;
  return { ...out, ...extra };
}

export function providerTools(options: { embeddings: boolean }): ToolDescriptor[] {
  const tools: ToolDescriptor[] = [
    {
      name: "chat_completion",
      description: "Chat completion from `messages` or a `prompt`; supports tools, JSON output and streaming.",
      input_schema: jsonSchema(ChatCompletionArgs, promptOrMessages),
    },
    { name: "generate_text", description: "Text from a single prompt.", input_schema: jsonSchema(GenerateTextArgs) },
    {
      name: "analyze_image",
      description: "Answers a prompt about an image (vision models).",
      input_schema: jsonSchema(AnalyzeImageArgs, imageSource),
    },
    {
      name: "agent_run",
      description:
        "Runs a tool-calling loop: the model may call the listed catalog tools (each call a child task) until it answers or max_steps is reached.",
      input_schema: jsonSchema(AgentRunArgs, promptOrMessages),
    },
  ];
  if (options.embeddings)
    tools.push({ name: "embed_text", description: "Embedding vectors for one or more texts.", input_schema: jsonSchema(EmbedTextArgs) });
  return tools;
}

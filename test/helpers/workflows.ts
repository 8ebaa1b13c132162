import { expect } from "vitest";
import type { ApiClient } from "./http.js";
import { waitFor } from "./wait.js";

/** Defines a workflow (expects success) and returns its version. */
export async function define(client: ApiClient, definition: unknown): Promise<number> {
  const response = await client.post("/api/v1/workflows", definition);
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
  return response.body.version;
}

export async function startRun(client: ApiClient, name: string, input: unknown = {}, headers?: Record<string, string>): Promise<string> {
  const response = await client.post(`/api/v1/workflows/${name}/runs`, { input }, headers);
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
  return response.body.run_id;
}

/** Polls a run until it is final. */
export async function waitForRun(client: ApiClient, runId: string, timeoutMs = 20_000): Promise<any> {
  return waitFor(
    async () => {
      const { body } = await client.get(`/api/v1/runs/${runId}`);
      return ["completed", "failed", "cancelled"].includes(body?.status) ? body : undefined;
    },
    { timeoutMs, what: `run ${runId} to finish`, intervalMs: 25 },
  );
}

export async function waitForStep(client: ApiClient, runId: string, stepId: string, status: string, timeoutMs = 15_000): Promise<any> {
  return waitFor(
    async () => {
      const { body } = await client.get(`/api/v1/runs/${runId}`);
      const step = body?.steps?.find((s: any) => s.step_id === stepId);
      return step?.status === status ? body : undefined;
    },
    { timeoutMs, what: `step ${stepId} of ${runId} to be ${status}`, intervalMs: 25 },
  );
}

export function stepOf(run: any, stepId: string): any {
  return run.steps.find((s: any) => s.step_id === stepId);
}

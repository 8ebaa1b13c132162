/**
 * Waits for a condition by re-checking it, for state that offers no event to subscribe to
 * (another process's work). Fails with the last value seen, so a timeout says what was wrong.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${options.what ?? "condition"}; last: ${String(last instanceof Error ? last.message : JSON.stringify(last))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}

import type { Logger } from "@switchyard/observability";

/**
 * Runs `stop` once on SIGINT/SIGTERM; a second signal, or `hardLimitMs` passing, exits at once.
 */
export function onShutdownSignal(logger: Logger, hardLimitMs: number, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    setTimeout(() => {
      logger.error({ ms: hardLimitMs }, "shutdown took too long: exiting");
      process.exit(1);
    }, hardLimitMs).unref();
    stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: error.message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

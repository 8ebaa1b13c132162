import type { Logger } from "@switchyard/observability";

/** Signals this close together are one: `npm start` + Ctrl-C delivers SIGINT twice (terminal and npm). */
const SAME_SIGNAL_MS = 1_500;

/**
 * Runs `stop` once on SIGINT/SIGTERM. A second signal (later than {@link SAME_SIGNAL_MS}), or
 * `hardLimitMs` passing, exits at once; `onForcedExit` still runs then (synchronously), to stop
 * child processes that would otherwise outlive us.
 */
export function onShutdownSignal(logger: Logger, hardLimitMs: number, stop: () => Promise<void>, onForcedExit?: () => void): void {
  let firstAt = 0;
  const forceExit = (code: number) => {
    try {
      onForcedExit?.();
    } finally {
      process.exit(code);
    }
  };
  const handler = (signal: NodeJS.Signals) => {
    if (firstAt > 0) {
      if (Date.now() - firstAt < SAME_SIGNAL_MS) return;
      logger.warn({ signal }, "second signal: exiting now");
      forceExit(130);
    }
    firstAt = Date.now();
    logger.info({ signal }, "shutting down");
    setTimeout(() => {
      logger.error({ ms: hardLimitMs }, "shutdown took too long: exiting");
      forceExit(1);
    }, hardLimitMs).unref();
    stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: error.message }, "shutdown failed");
        forceExit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

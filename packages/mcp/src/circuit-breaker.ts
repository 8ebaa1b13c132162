/**
 * Consecutive-failure circuit breaker. After `threshold` failures in a row the circuit opens for
 * `openMs`: callers fail fast instead of waiting on a server that keeps failing, and reconnects
 * wait for it. When the period ends one attempt is let through (half-open); a success closes the
 * circuit, another failure opens it again for the same period.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openUntil = 0;

  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a failure; true when this failure opened the circuit. */
  failure(): boolean {
    this.consecutive++;
    if (this.consecutive >= this.threshold && this.openUntil <= this.now()) {
      this.openUntil = this.now() + this.openMs;
      return true;
    }
    return false;
  }

  success(): void {
    this.consecutive = 0;
    this.openUntil = 0;
  }

  /** Milliseconds until the circuit half-opens; 0 when calls may go through. */
  openForMs(): number {
    return Math.max(0, this.openUntil - this.now());
  }

  get state(): "closed" | "open" | "half_open" {
    if (this.openForMs() > 0) return "open";
    return this.consecutive >= this.threshold ? "half_open" : "closed";
  }
}

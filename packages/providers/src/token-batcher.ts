/**
 * Collects streamed tokens and hands them on at most every `intervalMs`, so a fast stream costs
 * one Redis write per interval instead of one per token.
 */
export class TokenBatcher {
  private buffer = "";
  private timer: NodeJS.Timeout | undefined;
  private index = 0;

  constructor(
    private readonly emit: (text: string, index: number) => void,
    private readonly intervalMs = 50,
  ) {}

  push(text: string): void {
    if (!text) return;
    this.buffer += text;
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buffer) return;
    const text = this.buffer;
    this.buffer = "";
    this.emit(text, this.index++);
  }
}

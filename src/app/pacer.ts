// Paces sends to what the platform allows: unlimited until the first 429, then the rate observed
// in the second before it, so a burst-and-wait cycle does not waste a second after every limit.
export class AdaptivePacer {
  private pausedUntil = 0;
  private intervalMs = 0;
  private nextSlot = 0;
  private readonly recent: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Resolves when the next send may start. */
  async turn(): Promise<void> {
    for (;;) {
      const t = this.now();
      const at = Math.max(this.pausedUntil, this.nextSlot, t);
      if (at <= t) {
        this.nextSlot = t + this.intervalMs;
        this.recent.push(t);
        while (this.recent.length > 0 && this.recent[0]! < t - 1_000) this.recent.shift();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, at - t));
    }
  }

  /** The platform said "too many": wait as told, then keep to the rate that was just too much. */
  rateLimited(retryAfterMs: number): void {
    const t = this.now();
    this.pausedUntil = Math.max(this.pausedUntil, t + retryAfterMs);
    const perSecond = Math.max(1, this.recent.filter((at) => at >= t - 1_000).length - 1);
    this.intervalMs = Math.max(this.intervalMs, 1_000 / perSecond);
  }
}

// Paces sends to what the platform allows: unlimited until the first 429, then the rate that was
// sent in the second before the refused request, easing back up while no further 429 comes.
export class AdaptivePacer {
  private pausedUntil = 0;
  private intervalMs = 0;
  private nextSlot = 0;
  private readonly recent: number[] = [];
  private successesSinceLimit = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Resolves when the next send may start. */
  async turn(): Promise<void> {
    for (;;) {
      const t = this.now();
      const at = Math.max(this.pausedUntil, this.nextSlot, t);
      if (at <= t) {
        this.nextSlot = t + this.intervalMs;
        this.recent.push(t);
        while (this.recent.length > 0 && this.recent[0]! < t - 2_000) this.recent.shift();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, at - t));
    }
  }

  /** A send went through: after a second's worth of them, try a little faster. */
  succeeded(): void {
    if (this.intervalMs === 0) return;
    this.successesSinceLimit++;
    if (this.successesSinceLimit >= 1_000 / this.intervalMs) {
      this.intervalMs *= 0.95;
      this.successesSinceLimit = 0;
    }
  }

  /**
   * The platform said "too many" to a request sent at `sentAt`: wait as told, then keep to the rate
   * of the second before that request (less one), which was just too much.
   */
  rateLimited(retryAfterMs: number, sentAt: number = this.now()): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
    const perSecond = Math.max(1, this.recent.filter((at) => at > sentAt - 1_000 && at <= sentAt).length - 1);
    this.intervalMs = Math.max(this.intervalMs * 0.5, 1_000 / perSecond);
    this.successesSinceLimit = 0;
  }
}

// Paces sends to what the platform allows: unlimited until the first 429, then a little under the
// rate that drew it, probing upwards (by steps that grow while no 429 comes) in case the platform
// allows more: another replica sharing the limit may have finished.
const firstProbeStep = 0.02;

export class AdaptivePacer {
  private pausedUntil = 0;
  private intervalMs = 0;
  private nextSlot = 0;
  private readonly recent: number[] = [];
  /** Sends a second the pace stays under: one less than a second that drew a 429. */
  private ceilingPerSecond = Infinity;
  private lastProbeAt = 0;
  private probeStep = firstProbeStep;

  /**
   * `margin`: the share of the ceiling to send at, so that timers firing late and answers arriving
   * in bunches do not push a second's count over the limit. `probeEveryMs`: how long a pace holds
   * without a 429 before the ceiling is raised (by 2%, then 4%, 8%… until a 429 answers).
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly margin = 0.97,
    private readonly probeEveryMs = 20_000,
  ) {}

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
      // Whole milliseconds: a timer for a fraction of one fires at once, and the loop would spin.
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(at - t)));
    }
  }

  /** A send went through: a pace that has held long enough probes higher. */
  succeeded(): void {
    if (this.ceilingPerSecond === Infinity) return;
    const t = this.now();
    if (t - this.lastProbeAt < this.probeEveryMs) return;
    this.lastProbeAt = t;
    this.setCeiling(this.ceilingPerSecond * (1 + this.probeStep));
    this.probeStep *= 2;
  }

  /**
   * The platform said "too many" to a request sent at `sentAt`: wait as told, then keep under the
   * count of the second up to that request, which was one too many.
   */
  rateLimited(retryAfterMs: number, sentAt: number = this.now()): void {
    const t = this.now();
    this.pausedUntil = Math.max(this.pausedUntil, t + retryAfterMs);
    const inThatSecond = this.recent.filter((at) => at > sentAt - 1_000 && at <= sentAt).length;
    this.setCeiling(Math.min(this.ceilingPerSecond, Math.max(1, inThatSecond - 1)));
    this.lastProbeAt = t;
    this.probeStep = firstProbeStep;
  }

  /** Sends a second that the pace currently keeps to; Infinity before any 429. */
  get perSecond(): number {
    return this.intervalMs === 0 ? Infinity : 1_000 / this.intervalMs;
  }

  private setCeiling(perSecond: number): void {
    this.ceilingPerSecond = perSecond;
    this.intervalMs = 1_000 / Math.max(perSecond * this.margin, 0.5);
  }
}

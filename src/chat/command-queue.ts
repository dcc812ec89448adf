// Commands worked on after the platform has had its answer: a few at a time (about the database
// pool), so a burst queues here instead of starving the pool; past a limit the platform's answer
// says "busy"; and on stop the queue is drained before the store closes.
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Logger } from 'pino';

export const busyText = 'dmm-bot is very busy right now and did nothing with that. Please try again in a minute.';

export class CommandQueue {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly running = new Set<Promise<void>>();

  constructor(
    concurrency: number,
    private readonly maxWaiting = 500,
  ) {
    this.limit = pLimit(concurrency);
  }

  /** Too many commands wait already: a new one should be refused, not queued. */
  get full(): boolean {
    return this.limit.pendingCount > this.maxWaiting;
  }

  /** A command added now would start at once: a worker is free and nobody is waiting. */
  get idle(): boolean {
    return this.limit.activeCount < this.limit.concurrency && this.limit.pendingCount === 0;
  }

  /** Queues `task` (which handles its own errors); the promise settles when it has run. */
  add(task: () => Promise<void>): Promise<void> {
    const done = this.limit(task).catch(() => {});
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    return done;
  }

  /** Resolves when every queued command has run, or after `timeoutMs`. */
  async drain(timeoutMs = 10_000): Promise<void> {
    const ac = new AbortController();
    await Promise.race([Promise.all([...this.running]), sleep(timeoutMs, undefined, { signal: ac.signal }).catch(() => {})]);
    ac.abort();
  }
}

/** Commands a flood left without any answer, told to the operator a second after the first, and on stop. */
export class UnansweredCount {
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Pick<Logger, 'warn'>) {}

  add(): void {
    this.count += 1;
    this.timer ??= setTimeout(() => this.report(), 1_000).unref();
  }

  report(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    this.log.warn({ unanswered: this.count }, 'commands went unanswered: dmm-bot is overloaded');
    this.count = 0;
  }
}

// The pacer against a simulated platform limit, on fake timers: how close to the allowed rate it
// sends, and how often it is refused. Simulated seconds, not wall-clock speed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdaptivePacer } from '../../src/app/pacer.js';

/** A sliding one-second window, as the fake Slack and Slack's own limiter count. */
function slidingWindow(perSecond: () => number) {
  const admitted: number[] = [];
  return (at: number): boolean => {
    while (admitted.length > 0 && admitted[0]! <= at - 1_000) admitted.shift();
    if (admitted.length >= perSecond()) return false;
    admitted.push(at);
    return true;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `workers` senders share one pacer until `messages` are accepted; each request takes `latencyMs`. */
async function sendAll(options: { messages: number; workers: number; latencyMs: number; admit: (at: number) => boolean; retryAfterMs?: number }) {
  const pacer = new AdaptivePacer();
  const start = Date.now();
  let accepted = 0;
  let refused = 0;
  const worker = async () => {
    while (accepted + inFlight < options.messages) {
      await pacer.turn();
      if (accepted + inFlight >= options.messages) return;
      inFlight++;
      const sentAt = Date.now();
      await sleep(options.latencyMs / 2);
      const ok = options.admit(Date.now());
      await sleep(options.latencyMs / 2);
      inFlight--;
      if (ok) {
        accepted++;
        pacer.succeeded();
      } else {
        refused++;
        pacer.rateLimited(options.retryAfterMs ?? 1_000, sentAt);
      }
    }
  };
  let inFlight = 0;
  const done = Promise.all(Array.from({ length: options.workers }, worker));
  await vi.runAllTimersAsync();
  await done;
  return { seconds: (Date.now() - start) / 1_000, accepted, refused, pacer };
}

describe('AdaptivePacer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'Date'], loopLimit: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends within 10% of a 50-a-second limit, refused only a handful of times', async () => {
    const run = await sendAll({ messages: 3_000, workers: 8, latencyMs: 8, admit: slidingWindow(() => 50) });
    expect(run.accepted).toBe(3_000);
    const floor = 3_000 / 50;
    expect(run.seconds).toBeLessThanOrEqual(floor * 1.1);
    expect(run.refused).toBeLessThan(15);
  });

  it('learns a low limit (5 a second) as well as a high one', async () => {
    const run = await sendAll({ messages: 300, workers: 8, latencyMs: 8, admit: slidingWindow(() => 5) });
    expect(run.seconds).toBeLessThanOrEqual((300 / 5) * 1.1);
    // Most refusals are the first burst's: the workers already in flight when the first 429 came.
    expect(run.refused).toBeLessThan(15);
    expect(run.pacer.perSecond).toBeLessThanOrEqual(5);
  });

  it('does not limit itself before the platform refuses anything', async () => {
    const run = await sendAll({ messages: 200, workers: 4, latencyMs: 10, admit: () => true });
    expect(run.refused).toBe(0);
    expect(run.pacer.perSecond).toBe(Infinity);
    // 4 workers, 10 ms a request: 400 a second.
    expect(run.seconds).toBeLessThanOrEqual(0.6);
  });

  it('speeds up again once a limit shared with another sender is its own again', async () => {
    const start = Date.now();
    // From 30 s to 60 s another replica takes most of a 50-a-second limit.
    const limit = () => (Date.now() - start >= 30_000 && Date.now() - start < 60_000 ? 15 : 50);
    const run = await sendAll({ messages: 8_000, workers: 8, latencyMs: 8, admit: slidingWindow(limit) });
    expect(run.accepted).toBe(8_000);
    expect(run.pacer.perSecond).toBeGreaterThan(40);
  });

  it('finds its way up again when the platform allows more than it did', async () => {
    let limit = 10;
    setTimeout(() => (limit = 40), 20_000);
    const run = await sendAll({ messages: 8_000, workers: 8, latencyMs: 8, admit: slidingWindow(() => limit) });
    expect(run.accepted).toBe(8_000);
    expect(run.pacer.perSecond).toBeGreaterThan(30);
  });
});

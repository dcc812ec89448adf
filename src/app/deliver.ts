// The one retry policy for every send: wait out a rate limit, back off after a transient failure,
// give up at once on a permanent one.
import { DeliveryError } from '../ports.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep(ms: number): Promise<void>;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export async function withRetries<T>(send: () => Promise<T>, policy: RetryPolicy = defaultRetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const failure = error instanceof DeliveryError ? error : new DeliveryError(String((error as Error)?.message ?? error), 'transient');
      if (failure.kind === 'permanent' || attempt >= policy.maxAttempts) throw failure;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      // A long Retry-After is capped too: every wait stays well inside the claim's lease.
      await policy.sleep(failure.kind === 'rate-limited' ? Math.min(policy.maxDelayMs, Math.max(failure.retryAfterMs ?? backoff, 0)) : backoff);
    }
  }
}

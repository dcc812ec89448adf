// The one retry policy for every send: wait out a rate limit, back off after a transient failure,
// give up at once on a permanent one.
import { DeliveryError, type SendOptions } from '../ports.js';

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

/**
 * Whether a failed send may have reached the platform all the same. A rate limit or a refusal says it
 * did not; a server error, a timeout or a dropped connection leaves it open.
 */
export function mayHaveLanded(failure: DeliveryError): boolean {
  return failure.kind === 'transient';
}

export function deliveryErrorFrom(error: unknown): DeliveryError {
  return error instanceof DeliveryError ? error : new DeliveryError(String((error as Error)?.message ?? error), 'transient');
}

/** What the attempts at one send have left open; the caller keeps it across runs (an outbox row, an agenda run). */
export interface SendState {
  /** An attempt may have reached the platform unconfirmed: the next one looks for it before sending. */
  unconfirmed: boolean;
}

export async function withRetries<T>(
  send: (options: SendOptions) => Promise<T>,
  policy: RetryPolicy = defaultRetryPolicy,
  state: SendState = { unconfirmed: false },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send({ earlierAttemptUnconfirmed: state.unconfirmed });
    } catch (error) {
      const failure = deliveryErrorFrom(error);
      if (mayHaveLanded(failure)) state.unconfirmed = true;
      if (failure.kind === 'permanent' || attempt >= policy.maxAttempts) throw failure;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      // A long Retry-After is capped too: every wait stays well inside the claim's lease.
      await policy.sleep(failure.kind === 'rate-limited' ? Math.min(policy.maxDelayMs, Math.max(failure.retryAfterMs ?? backoff, 0)) : backoff);
    }
  }
}

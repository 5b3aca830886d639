const THROTTLING = /Throttl|TooManyRequests|RequestLimitExceeded|Rate exceeded/i;

/** Retry settings. Tests shorten the delay. */
export const RETRY = { attempts: 5, baseDelayMs: 500 };

/** Whether an error is AWS throttling. */
export function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return THROTTLING.test(e?.name ?? '') || THROTTLING.test(e?.message ?? '');
}

/**
 * Calls `fn`, retrying throttling errors with exponential backoff and jitter (on top of the SDK's own retries).
 * Other errors, and throttling that outlasts every attempt, are thrown.
 */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isThrottling(error) || attempt >= RETRY.attempts) throw error;
      const delay = RETRY.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

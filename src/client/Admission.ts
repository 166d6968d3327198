import { lightError, OverloadedError } from '../component/errors.js';

/**
 * The bound on calls pending in one client (`max_pending`; a batch counts one per key). Past it a
 * call is rejected at once with OverloadedError: nothing is sent, nothing is queued behind work
 * that cannot finish within `request_timeout`.
 */
export class Admission {
  /** Weight of the calls in progress. */
  private pending = 0;
  private lastOverload: { pending: number; message: string; details: Record<string, unknown> } | null = null;

  constructor(private readonly maxPending: number) {}

  /** Whether a call of `weight` would pass the bound. A call heavier than the whole bound (a big batch) may still run alone. */
  wouldOverload(weight: number): boolean {
    return this.pending + weight > this.maxPending && this.pending > 0;
  }

  admit(weight: number): void {
    this.pending += weight;
  }

  /** The call is over: its weight no longer counts. */
  release(weight: number): void {
    this.pending -= weight;
  }

  /** The rejection of a call over the bound, for `key` when the call has one. */
  overloaded(key: string | undefined): OverloadedError {
    const pending = this.pending;
    let shared = this.lastOverload;
    // During a burst every rejection sees the same count: share its message and details (frozen)
    // instead of allocating them per call; a burst's garbage is what makes it slow.
    if (shared === null || shared.pending !== pending) {
      const max = this.maxPending;
      shared = {
        pending,
        message: `${pending} calls are pending (maxPending ${max}); this call was rejected without being sent`,
        details: Object.freeze({ requestSent: false, pending, maxPending: max }),
      };
      this.lastOverload = shared;
    }
    return lightError(OverloadedError, 'OVERLOADED', shared.message, { key, details: shared.details });
  }
}

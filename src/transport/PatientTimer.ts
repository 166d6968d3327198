import { type Clock, stallMs } from './Clock.js';

/**
 * After a stall of our own loop, a deadline waits this much longer, once: replies that arrived
 * during the stall are read and delivered meanwhile, instead of being timed out.
 */
export const STALL_GRACE_MS = 25;

/**
 * A deadline timer that does not blame others for our stalls: `callback` runs after the I/O poll
 * that follows the due time, and if the timer fired late (our loop was blocked) it first waits
 * one more short grace, so what arrived during the stall is handled before judging.
 */
export class PatientTimer {
  private handle: unknown = null;
  private dueAt = 0;
  private inGrace = false;
  private stalled = false;
  /** How late (beyond the tolerance) the timer fired the last time it ran: our loop's stall. */
  lateByMs = 0;
  private readonly afterPoll = (): void => this.afterIO();

  constructor(
    private readonly clock: Clock,
    private readonly callback: () => void,
  ) {}

  get armed(): boolean {
    return this.handle !== null;
  }

  /** (Re)arms the timer `delayMs` from now. */
  start(delayMs: number): void {
    this.cancel();
    this.inGrace = false;
    this.schedule(delayMs);
  }

  cancel(): void {
    if (this.handle !== null) this.clock.clearTimer(this.handle);
    this.handle = null;
  }

  private schedule(delayMs: number): void {
    this.dueAt = this.clock.now() + delayMs;
    this.handle = this.clock.setTimer(() => {
      const late = stallMs(this.dueAt, this.clock.now());
      this.stalled = late > 0;
      if (!this.inGrace) this.lateByMs = late;
      this.clock.afterIO(this.afterPoll);
    }, delayMs);
  }

  private afterIO(): void {
    if (this.handle === null) return; // cancelled meanwhile
    if (this.stalled && !this.inGrace) {
      this.inGrace = true;
      this.schedule(STALL_GRACE_MS);
      return;
    }
    this.handle = null;
    this.inGrace = false;
    this.callback();
  }
}

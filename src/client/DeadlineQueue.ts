import type { Clock } from '../transport/Clock.js';
import { PatientTimer } from '../transport/PatientTimer.js';

/** Something with a caller's deadline; linked into the queue through its own fields (no allocation). */
export interface Expirable {
  /** Clock time at which the caller gets a TimeoutError. */
  dueAt: number;
  prevDue: Expirable | null;
  nextDue: Expirable | null;
  /** The deadline passed: settle the caller. Called at most once, after the item was unlinked. */
  expire(): void;
}

/**
 * The callers' deadlines of one client: a doubly linked list in deadline order with one timer,
 * so adding and removing cost O(1) however many calls are pending (every call of a client has
 * the same timeout, so appending keeps the order).
 *
 * Deadlines are judged after the event loop read the sockets, with a grace after our own stalls
 * (`PatientTimer`): a reply that has arrived by then is delivered, never timed out. A caller's
 * timeout says nothing about a server: it never counts toward `failures` (servers are judged by
 * their pipelines).
 */
export class DeadlineQueue {
  private head: Expirable | null = null;
  private tail: Expirable | null = null;
  private readonly timer: PatientTimer;
  /** The loop's utilisation when the timer was armed: compared when deadlines pass. */
  private armedLoop: unknown = null;
  /**
   * While `expire()` runs: how late the deadline timer fired (our loop was blocked), and the
   * share of time our loop was busy since the timer was armed (1 = never idle: replies that had
   * arrived could not be read). What a timeout says about whom to blame comes from these.
   */
  lateByMs = 0;
  loopBusy = 0;

  constructor(private readonly clock: Clock) {
    this.timer = new PatientTimer(clock, () => this.expireDue());
  }

  get isEmpty(): boolean {
    return this.head === null;
  }

  add(item: Expirable): void {
    let after = this.tail;
    // A later-added item with an earlier deadline (not the case with one timeout per client) is
    // placed where it belongs.
    while (after !== null && after.dueAt > item.dueAt) after = after.prevDue;
    item.prevDue = after;
    item.nextDue = after === null ? this.head : after.nextDue;
    if (after === null) this.head = item;
    else after.nextDue = item;
    if (item.nextDue === null) this.tail = item;
    else item.nextDue.prevDue = item;
    if (!this.timer.armed) this.arm();
  }

  remove(item: Expirable): void {
    const prev = item.prevDue;
    const next = item.nextDue;
    if (prev === null && this.head !== item) return; // not queued
    if (prev === null) this.head = next;
    else prev.nextDue = next;
    if (next === null) this.tail = prev;
    else next.prevDue = prev;
    item.prevDue = item.nextDue = null;
  }

  /** Drops every item without expiring it (the client closed and settles them itself). */
  clear(): void {
    this.timer.cancel();
    this.head = this.tail = null;
  }

  private arm(): void {
    if (this.head === null) return;
    this.timer.start(this.head.dueAt - this.clock.now());
    // Read once per arming, not per call.
    this.armedLoop = this.clock.loopMark?.() ?? null;
  }

  private expireDue(): void {
    const now = this.clock.now();
    this.lateByMs = this.timer.lateByMs;
    this.loopBusy = this.armedLoop === null ? 0 : (this.clock.busySince?.(this.armedLoop) ?? 0);
    let item = this.head;
    while (item !== null && item.dueAt <= now) {
      const next = item.nextDue;
      item.prevDue = item.nextDue = null;
      this.head = next;
      if (next === null) this.tail = null;
      else next.prevDue = null;
      item.expire();
      item = this.head;
    }
    if (!this.timer.armed) this.arm();
  }
}

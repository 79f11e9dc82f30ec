/**
 * Hands one stream connection's framed messages to the SIP stack a few per event-loop turn and
 * no faster than a token bucket allows, so that a peer pipelining requests cannot hold the event
 * loop, and with it the media frame clock and RTP, for as long as it keeps sending. The sender is
 * slowed, not refused: while messages wait here the connection is not read (`pause`), and TCP
 * backpressure does the rest (over UDP, datagram-rate.ts drops a source's excess instead). A
 * `SharedBudget` holds all the connections of one source to one rate together: 64 connections
 * each at a connection's rate would be 64 times it. Kamailio's pike and per-connection worker
 * fairness serve the same end.
 */

/** Messages handed to the stack in one event-loop turn; the rest wait for the next (setImmediate). */
export const MESSAGES_PER_TURN = 8;

export interface MessagePacerHooks<T> {
  deliver(message: T): void;
  /** Stop reading the connection: messages are waiting. */
  pause(): void;
  /** Read it again: every waiting message has been delivered. */
  resume(): void;
  /** The rate limit began holding messages back; called once per episode. */
  rateLimited(): void;
}

export interface MessageRate {
  perSecond: number;
  burst: number;
}

/** A budget pacers share: the messages per second of one source over all its connections (and its datagrams). */
export interface SharedBudget {
  budget: SourceBudget;
  source: string;
}

import { TokenBucket } from '../admission/token-bucket.js';
import type { SourceBudget } from './source-budget.js';

export class MessagePacer<T> {
  private queue: Array<T | undefined> = [];
  private head = 0;
  private readonly bucket: TokenBucket;
  private turnBudget = MESSAGES_PER_TURN;
  private nextTurn?: NodeJS.Immediate;
  private refillTimer?: NodeJS.Timeout;
  private paused = false;
  /**
   * From the bucket running dry until it is full again with nothing waiting (the sender kept under
   * the rate for a while): one episode, one report, however long the host stalls in between.
   */
  private limiting = false;
  private stopped = false;
  /** Waiting for the source's budget: cancels the wait. */
  private cancelSharedWait?: () => void;

  constructor(
    private readonly rate: MessageRate,
    private readonly hooks: MessagePacerHooks<T>,
    private readonly now: () => number = () => performance.now(),
    private readonly shared?: SharedBudget
  ) {
    this.bucket = new TokenBucket({ ratePerSecond: rate.perSecond, burst: rate.burst }, now());
  }

  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Messages just framed, in order; as many as the budgets allow are delivered now. */
  push(...messages: T[]): void {
    if (this.stopped) return;
    if (this.limiting && this.waiting === 0 && this.bucket.full(this.now())) this.limiting = false;
    for (const message of messages) this.queue.push(message);
    if (!this.waitingForTokens) this.drain();
  }

  private get waitingForTokens(): boolean {
    return this.refillTimer !== undefined || this.cancelSharedWait !== undefined;
  }

  /** The connection is gone: what waits is dropped, no timer is left. */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.head = 0;
    if (this.nextTurn) clearImmediate(this.nextTurn);
    clearTimeout(this.refillTimer);
    this.nextTurn = this.refillTimer = undefined;
    this.cancelSharedWait?.();
    this.cancelSharedWait = undefined;
  }

  private drain(): void {
    while (!this.stopped && this.head < this.queue.length) {
      if (this.turnBudget === 0) {
        this.hold();
        return;
      }
      const now = this.now();
      if (!this.bucket.has(now)) {
        this.hold();
        this.waitForTokens();
        return;
      }
      const shared = this.shared;
      if (shared !== undefined && !shared.budget.take(shared.source)) {
        this.hold();
        this.waitForSource(shared);
        return;
      }
      this.bucket.take(now);
      this.turnBudget--;
      const message = this.queue[this.head] as T;
      this.queue[this.head++] = undefined;
      this.scheduleNextTurn();
      this.hooks.deliver(message);
    }
    if (this.stopped) return;
    this.queue = [];
    this.head = 0;
    if (this.paused) {
      this.paused = false;
      this.hooks.resume();
    }
  }

  private hold(): void {
    if (this.paused) return;
    this.paused = true;
    this.hooks.pause();
  }

  /** A turn that delivered anything is followed by a fresh budget on the next one. */
  private scheduleNextTurn(): void {
    if (this.nextTurn) return;
    this.nextTurn = setImmediate(() => {
      this.nextTurn = undefined;
      this.turnBudget = MESSAGES_PER_TURN;
      if (!this.waitingForTokens) this.drain();
    });
  }

  private startEpisode(): void {
    if (this.limiting) return;
    this.limiting = true;
    this.hooks.rateLimited();
  }

  /** Waits its turn for the source's budget. */
  private waitForSource(shared: SharedBudget): void {
    this.startEpisode();
    this.cancelSharedWait = shared.budget.wait(shared.source, () => {
      this.cancelSharedWait = undefined;
      this.drain();
    });
  }

  /** Sleeps until a turn's worth of tokens (or what waits, if less) has come back. */
  private waitForTokens(): void {
    this.startEpisode();
    const wanted = Math.min(MESSAGES_PER_TURN, this.waiting, this.rate.burst);
    const delayMs = Math.max(1, Math.ceil(this.bucket.secondsUntil(wanted, this.now()) * 1000));
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.drain();
    }, delayMs);
  }
}

/**
 * What every transaction shares (RFC 3261 §17): the context it runs in (clock, timer
 * values, whether the transport is reliable, how to send) and its terminated state.
 */
import type { AnySipMessage } from '../message/message.js';
import { TimerSet, type Clock, type TimerValues } from './timers.js';

export interface TransactionContext {
  readonly clock: Clock;
  readonly timers: TimerValues;
  /** Reliable transports (TCP) skip retransmissions and zero the wait timers (§17). */
  readonly reliable: boolean;
  send(message: AnySipMessage): void;
  /** A client transaction's request got no answer (timer B or F) or could not be sent. */
  unanswered?(): void;
}

export type TransactionState =
  'calling' | 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export abstract class Transaction {
  state: TransactionState;
  /** Called once when the transaction reaches Terminated (the layer forgets it). */
  onTerminated?: () => void;
  protected readonly timers: TimerSet;

  constructor(
    readonly key: string,
    protected readonly context: TransactionContext,
    initial: TransactionState
  ) {
    this.state = initial;
    this.timers = new TimerSet(context.clock);
  }

  get terminated(): boolean {
    return this.state === 'terminated';
  }

  /** Ends the transaction now: timers cleared, no further sends. Idempotent. */
  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clearAll();
    this.onTerminated?.();
  }

  /** 64*T1: timers B, F, H, J, L, M (§17, Table 4). */
  protected get timeout64(): number {
    return 64 * this.context.timers.t1Ms;
  }
}

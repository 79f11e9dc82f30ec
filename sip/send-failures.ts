/**
 * Which failed sends to log: one per destination (a connection, for the stream
 * transports) until a send to it succeeds again: a peer whose connection was closed (for not
 * reading its answers, say) while hundreds of answers to it were pending must not turn into
 * hundreds of log lines. The user agent counts them all (`stats.sendFailures`); the closure
 * itself is logged where it happens, once.
 */
import type { Destination } from './transport/routing.js';
import { sourceKeyOf } from './transport/transport.js';

/** Destinations remembered at once; the oldest is forgotten past this (and may be logged again). */
const MAX_REMEMBERED = 1024;

export class SendFailures {
  /** Destinations logged and not sent to successfully since → the number of the send that was. */
  private readonly logged = new Map<string, number>();
  private sends = 0;

  /** Numbers a send as it starts: a send started before a failure was logged cannot clear it. */
  started(): number {
    return ++this.sends;
  }

  /** The send failed: whether to log it (the first failure to this destination). */
  failed(destination: Destination, send: number): boolean {
    const key = sourceKeyOf(destination);
    if (this.logged.has(key)) return false;
    if (this.logged.size >= MAX_REMEMBERED) this.logged.delete(this.logged.keys().next().value as string);
    this.logged.set(key, Math.max(send, this.sends));
    return true;
  }

  /** The send succeeded: a later failure to this destination is news again. */
  succeeded(destination: Destination, send: number): void {
    if (this.logged.size === 0) return;
    const key = sourceKeyOf(destination);
    const loggedAt = this.logged.get(key);
    if (loggedAt !== undefined && send > loggedAt) this.logged.delete(key);
  }
}

/**
 * Answers a WebSocket peer's pings (RFC 6455 §5.5.2) with one pong per event-loop turn, for the
 * latest ping of the turn (§5.5.3 allows answering only the most recent). ws's own auto-pong
 * answers each ping and terminates a connection with more than 60 pongs unsent, so one read of
 * 61 pings closed a connection with no close frame and nothing logged; here a ping flood costs a
 * pong per read and the connection stays.
 */
import { WebSocket } from 'ws';

export class WsPongAnswer {
  #latest: Buffer | undefined;

  constructor(private readonly socket: WebSocket) {}

  ping(data: Buffer): void {
    if (this.#latest === undefined) setImmediate(() => this.#answer());
    this.#latest = data;
  }

  #answer(): void {
    const data = this.#latest;
    this.#latest = undefined;
    if (this.socket.readyState === WebSocket.OPEN) this.socket.pong(data);
  }
}

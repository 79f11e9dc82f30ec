/**
 * Answers a WebSocket peer's pings (RFC 6455 §5.5.2) with one pong per event-loop turn, for the
 * latest ping of the turn (§5.5.3 allows answering only the most recent). ws's own auto-pong
 * answers each ping and terminates a connection with more than 60 pongs unsent, so one read of
 * 61 pings closed a connection with no close frame and nothing logged; here a ping flood costs a
 * pong per read and the connection stays. A pong is an answer like any other: `mayWrite` (the
 * connection's write-queue limit) is asked first, so a peer that pings and never reads cannot
 * grow our send buffer without bound.
 */
import { WebSocket } from 'ws';

export class WsPongAnswer {
  #latest: Buffer | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly mayWrite: (bytes: number) => boolean
  ) {}

  ping(data: Buffer): void {
    if (this.#latest === undefined) setImmediate(() => this.#answer());
    this.#latest = data;
  }

  #answer(): void {
    const data = this.#latest;
    this.#latest = undefined;
    if (this.socket.readyState === WebSocket.OPEN && data !== undefined && this.mayWrite(data.length))
      this.socket.pong(data);
  }
}

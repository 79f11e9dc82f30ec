/**
 * The server's WebSocket keep-alive, as Janus and Kamailio do it: every `intervalMs` we send a
 * ping (RFC 6455 §5.5.2), and a peer whose pong (§5.5.3, browsers answer on their own) has not
 * come within `timeoutMs` is gone: `onTimeout` closes it. The pings keep NAT bindings open, and
 * the pongs tell a silent but present browser from a vanished one. One timer per connection.
 */
import type { WebSocket } from 'ws';

export class WsHeartbeat {
  private timer: NodeJS.Timeout;
  private awaitingPong = false;
  private stopped = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly onTimeout: () => void
  ) {
    this.timer = setTimeout(() => this.ping(), intervalMs);
    this.timer.unref();
  }

  /** A pong arrived (an unsolicited one too, §5.5.3: it proves the peer is there). */
  pong(): void {
    if (this.stopped || !this.awaitingPong) return;
    this.awaitingPong = false;
    this.schedule(() => this.ping(), this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private ping(): void {
    if (this.stopped) return;
    this.awaitingPong = true;
    this.schedule(() => this.expire(), this.timeoutMs);
    // A ping on a socket that is closing is not an error of the peer's: the close ends it anyway.
    this.socket.ping(undefined, undefined, () => {});
  }

  private expire(): void {
    if (this.stopped || !this.awaitingPong) return;
    this.stop();
    this.onTimeout();
  }

  private schedule(run: () => void, ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(run, ms);
    this.timer.unref();
  }
}

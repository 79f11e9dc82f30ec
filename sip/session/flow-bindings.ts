/**
 * Calls bound to the connection they were set up on (RFC 7118 §5, after RFC 5626 §5.3): a
 * WebSocket client is reached only over the connection it opened, so a call with one, whichever
 * side placed it, runs over that connection and ends when it closes. A request for such a call
 * arriving over another connection is not that call's.
 */
import { sourceKeyOf, type MessageSource } from '../transport/transport.js';
import type { InviteSessionBase } from './invite-session.js';
import type { SipLogger } from './session-host.js';

/**
 * Whether a request from `source` may act on a dialog bound to `flow`: any source when the
 * dialog has none (a UDP or TCP peer may come back from another port, behind a NAT say), else
 * that connection only.
 */
export function arrivedOnFlow(flow: MessageSource | undefined, source: MessageSource): boolean {
  return flow === undefined || sourceKeyOf(flow) === sourceKeyOf(source);
}

/** Connection → the live sessions bound to it. */
export class FlowBindings {
  private readonly sessions = new Map<string, Set<InviteSessionBase>>();

  constructor(private readonly logger: SipLogger) {}

  /** Tracks a session bound to a flow until it ends; one without a flow is left alone. */
  bind(session: InviteSessionBase): void {
    const flow = session.flow;
    if (flow === undefined || session.terminated) return;
    const key = sourceKeyOf(flow);
    let sessions = this.sessions.get(key);
    if (!sessions) this.sessions.set(key, (sessions = new Set()));
    sessions.add(session);
    session.on('terminated', () => {
      sessions.delete(session);
      if (sessions.size === 0 && this.sessions.get(key) === sessions) this.sessions.delete(key);
    });
  }

  /** The connection is gone: its calls end as on a lost transport, with nobody to signal to. */
  connectionClosed(source: MessageSource): void {
    const sessions = this.sessions.get(sourceKeyOf(source));
    if (!sessions) return;
    this.logger.info({ source, calls: sessions.size }, 'connection closed, ending its calls');
    for (const session of [...sessions]) session.transportLost();
  }

  clear(): void {
    this.sessions.clear();
  }
}

/**
 * An engine's RTP session on a real loopback socket whose clock the test sets, and a phone socket
 * it is latched to (PCMU, 20 ms frames): packets cross the kernel while the session's time is the
 * test's, so what it does with jitter or a stream change does not depend on the host's speed.
 */
import dgram from 'node:dgram';
import type { RtpSession, RtpSessionOptions } from '../../engine/rtp/rtp-session.js';
import { loopbackRtp } from './loopback-rtp-sessions.js';

export interface VirtualClockSession {
  session: RtpSession;
  /** The session's clock in ms: the test moves it. */
  clock: { ms: number };
  /** Sends `packet` from the phone; resolves once the session has taken or dropped it. */
  send(packet: Buffer): Promise<void>;
}

export async function virtualClockSession(
  host: string,
  ports: { minPort: number; maxPort: number },
  cleanups: Array<() => void>,
  options: Partial<RtpSessionOptions> = {}
): Promise<VirtualClockSession> {
  const rtp = loopbackRtp(cleanups, ports, host);
  const pair = await rtp.pool().allocate();
  const phone = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => phone.bind(0, host, () => resolve()));
  cleanups.push(() => phone.close());
  const clock = { ms: 0 };
  // The session's own jitter defaults, not loopbackRtp's shorter start delay.
  const session = rtp.session(pair, phone.address().port, {
    jitter: undefined,
    now: () => clock.ms,
    ...options
  });
  let sent = 0;
  const handled = (): number => session.stats().packetsReceived + session.stats().packetsDiscarded;
  return {
    session,
    clock,
    async send(packet) {
      phone.send(packet, pair.rtpPort, host);
      sent++;
      for (let i = 0; handled() < sent; i++) {
        if (i > 200_000) throw new Error('packet not received');
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };
}

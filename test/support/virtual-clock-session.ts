/**
 * An engine's RTP session on a real loopback socket whose clock the test sets, and a phone socket
 * it is latched to (PCMU, 20 ms frames): packets cross the kernel while the session's time is the
 * test's, so what it does with jitter or a stream change does not depend on the host's speed.
 */
import dgram from 'node:dgram';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { RtpSession, type RtpSessionOptions } from '../../engine/rtp/rtp-session.js';

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
  const pool = new RtpPortPool({ host, ...ports });
  cleanups.push(() => pool.close());
  const phone = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => phone.bind(0, host, () => resolve()));
  cleanups.push(() => phone.close());
  const pair = await pool.allocate();
  const clock = { ms: 0 };
  const session = new RtpSession({
    ports: pair,
    payloadType: 0,
    clockRateHz: 8000,
    samplesPerFrame: 160,
    rtcpIntervalMs: 0,
    remote: { address: host, port: phone.address().port },
    now: () => clock.ms,
    ...options
  });
  cleanups.push(() => session.close());
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

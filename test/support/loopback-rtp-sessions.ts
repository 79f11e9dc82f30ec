/** RTP sessions on loopback for RTP/RTCP tests: a port pool and PCMU sessions, closed by `cleanups`. */
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { RtpSession, type RtpSessionOptions } from '../../engine/rtp/rtp-session.js';

export function loopbackRtp(cleanups: Array<() => void>, ports: { minPort: number; maxPort: number }) {
  return {
    pool(): RtpPortPool {
      const pool = new RtpPortPool({ host: '127.0.0.1', ...ports });
      cleanups.push(() => pool.close());
      return pool;
    },
    /** A PCMU session on `pair` whose SDP remote is `remotePort` on loopback (no RTCP unless asked). */
    session(
      pair: RtpSession['ports'],
      remotePort: number,
      extra: Partial<RtpSessionOptions> = {}
    ): RtpSession {
      const session = new RtpSession({
        ports: pair,
        payloadType: 0,
        clockRateHz: 8000,
        samplesPerFrame: 160,
        rtcpIntervalMs: 0,
        jitter: { startDelayMs: 40 },
        remote: { address: '127.0.0.1', port: remotePort },
        ...extra
      });
      cleanups.push(() => session.close());
      return session;
    }
  };
}

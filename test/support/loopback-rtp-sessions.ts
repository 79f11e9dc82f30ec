/** RTP sessions on a loopback address (default 127.0.0.1) for RTP/RTCP tests: a port pool and PCMU sessions, closed by `cleanups`. */
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { RtpSession, type RtpSessionOptions } from '../../engine/rtp/rtp-session.js';

export function loopbackRtp(
  cleanups: Array<() => void>,
  ports: { minPort: number; maxPort: number },
  host = '127.0.0.1'
) {
  return {
    pool(): RtpPortPool {
      const pool = new RtpPortPool({ host, ...ports });
      cleanups.push(() => pool.close());
      return pool;
    },
    /** A PCMU session on `pair` whose SDP remote is `remotePort` on `host` (no RTCP unless asked). */
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
        remote: { address: host, port: remotePort },
        ...extra
      });
      cleanups.push(() => session.close());
      return session;
    }
  };
}

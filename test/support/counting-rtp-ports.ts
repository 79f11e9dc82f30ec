/**
 * RTP port pairs whose sockets are stand-ins: packets go in by `emit('message', …)` and sends
 * are only counted, so the engine's per-frame path runs without the kernel's share of a packet.
 * For the media-path benchmark and tests that drive media legs frame by frame.
 */
import { EventEmitter } from 'node:events';
import type dgram from 'node:dgram';
import type { RtpPortPair } from '../../engine/rtp/port-pool.js';

/** Enough of a dgram socket for an RTP session: events in, sends counted. */
export class CountingSocket extends EventEmitter {
  sent = 0;
  constructor(private readonly port: number) {
    super();
  }
  send(): void {
    this.sent++;
  }
  address(): { address: string; port: number; family: string } {
    return { address: '127.0.0.1', port: this.port, family: 'IPv4' };
  }
}

export function countingPorts(rtpPort: number): RtpPortPair & { rtpSocket: dgram.Socket } {
  return {
    rtpPort,
    rtcpPort: rtpPort + 1,
    rtpSocket: new CountingSocket(rtpPort) as unknown as dgram.Socket,
    rtcpSocket: new CountingSocket(rtpPort + 1) as unknown as dgram.Socket,
    mediaFamilies: ['IP4'],
    release: () => undefined
  };
}

/**
 * SIP over UDP (RFC 3261 §18): one datagram is one message. Send errors are reported, never
 * thrown at the caller's stack; the socket keeps serving.
 */
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { SipError } from '../errors.js';
import type { SipTransport, TransportAddress, TransportHandler } from './transport.js';

export class UdpTransport implements SipTransport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  private socket?: dgram.Socket;
  private closed = false;
  /** Datagrams handed to the socket whose send has not completed. */
  private sending = 0;
  private drained: (() => void) | undefined;

  constructor(
    private readonly bind: TransportAddress,
    private readonly handler: TransportHandler
  ) {}

  listen(): Promise<void> {
    const socket = dgram.createSocket({ type: isIPv6(this.bind.host) ? 'udp6' : 'udp4' });
    this.socket = socket;
    socket.on('message', (data, rinfo) => {
      this.handler.message(data, { protocol: 'udp', host: rinfo.address, port: rinfo.port });
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.bind.port, this.bind.host, () => {
        socket.off('error', reject);
        try {
          // Room for bursts (a conference's worth of INVITEs at once) before the kernel drops.
          socket.setRecvBufferSize(1 << 20);
        } catch {
          // Not permitted here: the default buffer still works.
        }
        socket.on('error', (err) => this.handler.warning?.('udp socket error', { err: err.message }));
        resolve();
      });
    });
  }

  address(): TransportAddress {
    if (!this.socket) throw new SipError('ERR_INVALID_STATE', 'UDP transport not listening');
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  send(data: Buffer, destination: TransportAddress): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closed) return Promise.reject(new SipError('ERR_CLOSED', 'UDP transport closed'));
    this.sending++;
    const done = (): void => {
      if (--this.sending === 0) this.drained?.();
    };
    return new Promise((resolve, reject) => {
      try {
        socket.send(data, destination.port, destination.host, (err) => {
          done();
          if (err) reject(err);
          else resolve();
        });
      } catch (err) {
        // Thrown, not called back (a Via or Contact naming port 0): counted as sent, it held
        // close() and with it the engine's stop for good.
        done();
        reject(err);
      }
    });
  }

  close(): Promise<void> {
    if (this.closed || !this.socket) {
      this.closed = true;
      return Promise.resolve();
    }
    this.closed = true;
    const socket = this.socket;
    // Node sends a datagram a tick after send() (it resolves the address first), and close() in
    // between drops it: the 480 a stopping engine gives a ringing caller never left. Closed once
    // every send handed over has gone.
    const sent = this.sending === 0 ? Promise.resolve() : new Promise<void>((r) => (this.drained = r));
    return sent.then(() => new Promise((resolve) => socket.close(() => resolve())));
  }
}

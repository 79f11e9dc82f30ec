/**
 * A SIP WebSocket client written by hand (RFC 6455), for tests that must send what the `ws`
 * client will not: a half-finished handshake, a frame a byte at a time, thousands of frames in
 * one write.
 */
import { randomBytes } from 'node:crypto';

/** The client's opening handshake for the `sip` subprotocol on /sip. */
export function webSocketUpgradeRequest(port: number): string {
  return [
    'GET /sip HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Protocol: sip',
    '',
    ''
  ].join('\r\n');
}

/**
 * A client-to-server frame (RFC 6455 §5.2: masked, FIN set unless `fin` is false: a fragment with
 * more to come) with `opcode` (0 continuation, 1 text, 9 ping, 10 pong), payload under 64 KiB. An
 * all-zero `mask` leaves the payload as is, for writing many frames cheaply.
 */
export function maskedFrame(
  opcode: number,
  payload: Buffer | string,
  mask: Buffer = randomBytes(4),
  fin = true
): Buffer {
  const data = Buffer.from(payload);
  const first = (fin ? 0x80 : 0) | opcode;
  const head =
    data.length < 126
      ? Buffer.from([first, 0x80 | data.length])
      : Buffer.from([first, 0x80 | 126, data.length >> 8, data.length & 0xff]);
  const masked = Buffer.from(data.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([head, mask, masked]);
}

/** A client-to-server text frame (see maskedFrame). */
export function maskedTextFrame(payload: Buffer | string, mask?: Buffer): Buffer {
  return maskedFrame(0x1, payload, mask);
}

/**
 * The stream framer's CRLF keep-alive pings (RFC 5626 §3.5.1): a double CRLF between messages
 * is one ping however the bytes are chunked; a lone CRLF (RFC 3261 §7.5) or bare LFs are not;
 * CRLFs before a message's start line are skipped and the message is framed as before.
 */
import { describe, expect, it } from 'vitest';
import { StreamFramer } from '../../../sip/transport/stream-framer.js';
import { sipText } from '../../support/sip-udp-peer.js';

const options = sipText([
  'OPTIONS sip:a@127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1',
  'Call-ID: framer-1',
  'CSeq: 1 OPTIONS'
]);

/** Feeds `text` to a fresh framer in chunks of `size` bytes; the pings and messages it yields. */
function feed(text: string, size: number): { pings: number; messages: string[] } {
  const framer = new StreamFramer();
  const bytes = Buffer.from(text, 'latin1');
  const messages: string[] = [];
  let pings = 0;
  for (let at = 0; at < bytes.length; at += size) {
    for (const frame of framer.push(bytes.subarray(at, at + size))) messages.push(frame.toString('latin1'));
    pings += framer.takeKeepAlivePings();
  }
  return { pings, messages };
}

describe('StreamFramer keep-alive pings', () => {
  const cases: Array<[string, string, number, number]> = [
    ['one ping', '\r\n\r\n', 1, 0],
    ['two pings in a row', '\r\n\r\n\r\n\r\n', 2, 0],
    ['three CRLFs: one ping and a CRLF left over', '\r\n\r\n\r\n', 1, 0],
    ['a lone CRLF', '\r\n', 0, 0],
    ['bare LFs', '\n\n\n\n', 0, 0],
    ['a ping, then a message', `\r\n\r\n${options}`, 1, 1],
    ['a message, a ping, a message', `${options}\r\n\r\n${options}`, 1, 2],
    ['a lone CRLF before each of two messages', `\r\n${options}\r\n${options}`, 0, 2],
    ['a CRLF before a message and one after it are not one ping', `${options}\r\n${options}\r\n`, 0, 2]
  ];
  for (const [name, text, pings, messages] of cases) {
    it(`${name}: ${pings} ping(s), ${messages} message(s), however chunked`, () => {
      for (const size of [1, 2, 3, 5, text.length]) {
        const got = feed(text, size);
        expect({ size, pings: got.pings, messages: got.messages.length }).toEqual({ size, pings, messages });
        for (const message of got.messages) expect(message).toBe(options);
      }
    });
  }

  it('counts a flood of pings in linear time and holds no bytes for them', () => {
    const framer = new StreamFramer();
    const flood = Buffer.from('\r\n\r\n'.repeat(250_000));
    expect(framer.push(flood)).toEqual([]);
    expect(framer.takeKeepAlivePings()).toBe(250_000);
    expect(framer.takeKeepAlivePings()).toBe(0);
    expect(framer.buffered).toBe(0);
  });
});

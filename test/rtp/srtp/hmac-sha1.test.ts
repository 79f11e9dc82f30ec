import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha1 } from '../../../engine/rtp/srtp/hmac-sha1.js';

describe('HmacSha1', () => {
  it('matches RFC 2202 test case 2 ("Jefe")', () => {
    const mac = new HmacSha1(Buffer.from('Jefe'));
    const data = Buffer.from('what do ya want for nothing?');
    expect(mac.mac(data, data.length).toString('hex')).toBe('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  });

  it('matches node:crypto for every length 0-300 around the block and padding edges, with and without a trailer', () => {
    const key = randomBytes(20);
    const mac = new HmacSha1(key);
    const data = randomBytes(300 + 16);
    for (let length = 0; length <= 300; length++) {
      expect(mac.mac(data, length).toString('hex'), `length ${length}`).toBe(
        createHmac('sha1', key).update(data.subarray(0, length)).digest('hex')
      );
      const roc = (length * 2654435761) >>> 0;
      const word = Buffer.alloc(4);
      word.writeUInt32BE(roc);
      expect(mac.mac(data, length, roc).toString('hex'), `length ${length} + trailer`).toBe(
        createHmac('sha1', key).update(data.subarray(0, length)).update(word).digest('hex')
      );
    }
  });

  it('verifies a tag in place and refuses one wrong bit', () => {
    const mac = new HmacSha1(randomBytes(20));
    const packet = Buffer.alloc(172 + 10);
    randomBytes(172).copy(packet);
    mac.mac(packet, 172, 7).copy(packet, 172, 0, 10);
    expect(mac.verify(packet, 172, 10, 7)).toBe(true);
    expect(mac.verify(packet, 172, 10, 8)).toBe(false);
    packet[180] ^= 1;
    expect(mac.verify(packet, 172, 10, 7)).toBe(false);
  });
});

/**
 * HMAC-SHA1 authentication tags (RFC 3711 §4.2.1) over a packet's authenticated portion and a
 * trailing 32-bit word (the ROC for SRTP; SRTCP puts its E||index inside the portion instead).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export class HmacSha1 {
  readonly #key: Buffer;
  readonly #word = Buffer.alloc(4);

  constructor(key: Buffer) {
    this.#key = Buffer.from(key);
  }

  /** Full 20-byte MAC of `data[0, length)`, followed by `trailer` as a big-endian uint32 when given. */
  mac(data: Uint8Array, length: number, trailer?: number): Buffer {
    const hmac = createHmac('sha1', this.#key);
    hmac.update(data.subarray(0, length));
    if (trailer !== undefined) {
      this.#word.writeUInt32BE(trailer >>> 0, 0);
      hmac.update(this.#word);
    }
    return hmac.digest();
  }

  /** Constant-time check of the `tagBytes`-byte tag at `data[length, length + tagBytes)`. */
  verify(data: Uint8Array, length: number, tagBytes: number, trailer?: number): boolean {
    const expected = this.mac(data, length, trailer);
    return timingSafeEqual(expected.subarray(0, tagBytes), data.subarray(length, length + tagBytes));
  }
}

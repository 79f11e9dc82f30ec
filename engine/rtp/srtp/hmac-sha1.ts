/**
 * HMAC-SHA1 authentication tags (RFC 3711 §4.2.1, RFC 2104, FIPS 180-4 §6.1) over a packet's
 * authenticated portion and a trailing 32-bit word (the ROC for SRTP; SRTCP puts its E||index
 * inside the portion instead).
 *
 * Written out here because it is per packet and node:crypto is slow at this size: createHmac
 * spends about 1.5 µs building a keyed object for every packet (bench/suites/srtp.ts measures
 * it), while the keyed inner and outer states are the same for the whole call. They are
 * computed once; a tag then costs the compression of the packet's blocks plus one outer block,
 * with every buffer allocated up front. Tested against node:crypto on random inputs.
 */

const BLOCK_BYTES = 64;

export class HmacSha1 {
  /** SHA-1 state after (key XOR ipad) and after (key XOR opad). */
  readonly #innerStart = new Int32Array(5);
  readonly #outerStart = new Int32Array(5);
  readonly #state = new Int32Array(5);
  readonly #w = new Int32Array(80);
  /** The last partial block(s) of a message: room for 63 bytes, a 4-byte trailer and padding. */
  readonly #tail = new Uint8Array(2 * BLOCK_BYTES);
  readonly #digest = Buffer.alloc(20);

  constructor(key: Uint8Array) {
    if (key.length > BLOCK_BYTES)
      throw new RangeError('HMAC-SHA1 keys longer than 64 bytes are not used by SRTP');
    const pad = new Uint8Array(BLOCK_BYTES);
    for (const [start, fill] of [
      [this.#innerStart, 0x36],
      [this.#outerStart, 0x5c]
    ] as const) {
      pad.fill(fill);
      for (let i = 0; i < key.length; i++) pad[i] ^= key[i];
      this.#reset();
      this.#compress(pad, 0);
      start.set(this.#state);
    }
  }

  /**
   * The 20-byte MAC of `data[0, length)`, followed by `trailer` as a big-endian uint32 when
   * given. The returned buffer is reused by the next call.
   */
  mac(data: Uint8Array, length: number, trailer?: number): Buffer {
    const state = this.#state;
    state.set(this.#innerStart);
    const whole = length - (length % BLOCK_BYTES);
    for (let at = 0; at < whole; at += BLOCK_BYTES) this.#compress(data, at);
    const tail = this.#tail;
    let n = length - whole;
    for (let i = 0; i < n; i++) tail[i] = data[whole + i];
    if (trailer !== undefined) {
      tail[n] = trailer >>> 24;
      tail[n + 1] = (trailer >>> 16) & 0xff;
      tail[n + 2] = (trailer >>> 8) & 0xff;
      tail[n + 3] = trailer & 0xff;
      n += 4;
    }
    const messageBytes = BLOCK_BYTES + length + (trailer === undefined ? 0 : 4);
    this.#finish(tail, n, messageBytes);
    // Outer hash: (key XOR opad) || inner digest.
    for (let i = 0; i < 5; i++) {
      const word = state[i];
      tail[4 * i] = word >>> 24;
      tail[4 * i + 1] = (word >>> 16) & 0xff;
      tail[4 * i + 2] = (word >>> 8) & 0xff;
      tail[4 * i + 3] = word & 0xff;
    }
    state.set(this.#outerStart);
    this.#finish(tail, 20, BLOCK_BYTES + 20);
    const digest = this.#digest;
    for (let i = 0; i < 5; i++) digest.writeInt32BE(state[i], 4 * i);
    return digest;
  }

  /** Constant-time check of the `tagBytes`-byte tag at `data[length, length + tagBytes)` (no views made). */
  verify(data: Uint8Array, length: number, tagBytes: number, trailer?: number): boolean {
    const expected = this.mac(data, length, trailer);
    let difference = 0;
    for (let i = 0; i < tagBytes; i++) difference |= expected[i] ^ data[length + i];
    return difference === 0;
  }

  /** FIPS 180-4 §5.1.1 padding of the last `n` bytes in `tail`, then their compression. */
  #finish(tail: Uint8Array, n: number, messageBytes: number): void {
    tail[n++] = 0x80;
    const end = n <= BLOCK_BYTES - 8 ? BLOCK_BYTES : 2 * BLOCK_BYTES;
    tail.fill(0, n, end - 4);
    const bits = messageBytes * 8; // < 2^32 for any packet
    tail[end - 4] = bits >>> 24;
    tail[end - 3] = (bits >>> 16) & 0xff;
    tail[end - 2] = (bits >>> 8) & 0xff;
    tail[end - 1] = bits & 0xff;
    this.#compress(tail, 0);
    if (end === 2 * BLOCK_BYTES) this.#compress(tail, BLOCK_BYTES);
  }

  #reset(): void {
    const s = this.#state;
    s[0] = 0x67452301;
    s[1] = 0xefcdab89 | 0;
    s[2] = 0x98badcfe | 0;
    s[3] = 0x10325476;
    s[4] = 0xc3d2e1f0 | 0;
  }

  /** FIPS 180-4 §6.1.2: one 64-byte block at `block[at]` into the state. */
  #compress(block: Uint8Array, at: number): void {
    const w = this.#w;
    for (let t = 0; t < 16; t++, at += 4)
      w[t] = (block[at] << 24) | (block[at + 1] << 16) | (block[at + 2] << 8) | block[at + 3];
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    const s = this.#state;
    let a = s[0];
    let b = s[1];
    let c = s[2];
    let d = s[3];
    let e = s[4];
    // Four rounds of 20 steps, each with its own function and constant (§4.1.1, §4.2.1).
    let t = 0;
    for (; t < 20; t++) {
      const temp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    for (; t < 40; t++) {
      const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    for (; t < 60; t++) {
      const temp =
        (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + w[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    for (; t < 80; t++) {
      const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + w[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    s[0] = (s[0] + a) | 0;
    s[1] = (s[1] + b) | 0;
    s[2] = (s[2] + c) | 0;
    s[3] = (s[3] + d) | 0;
    s[4] = (s[4] + e) | 0;
  }
}

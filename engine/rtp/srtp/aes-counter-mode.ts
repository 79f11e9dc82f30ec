/**
 * AES in counter mode as SRTP uses it (RFC 3711 §4.1.1): the keystream block j of a packet is
 * AES(k_e, IV + j) with IV = (k_s << 16) XOR (SSRC << 64) XOR (index << 16). One ECB cipher
 * object per session key encrypts a packet's counter blocks in a single call, so no cipher is
 * created per packet; the counter blocks live in one buffer reused for every packet.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

/** Largest packet payload this keystream serves (a UDP datagram's worth). */
export const MAX_KEYSTREAM_BYTES = 65536;

export class AesCounterMode {
  readonly #ecb: Cipher;
  readonly #salt: Buffer;
  readonly #counters = Buffer.alloc(2048);
  #large: Buffer | undefined;
  /** The last counter-block view handed to the cipher, kept while packets keep their size. */
  #view: Buffer | undefined;

  constructor(sessionKey: Buffer, sessionSalt: Buffer) {
    if (sessionSalt.length !== 14)
      throw new RangeError(`session salt must be 14 bytes, got ${sessionSalt.length}`);
    this.#ecb = createCipheriv(`aes-${sessionKey.length * 8}-ecb`, sessionKey, null);
    this.#ecb.setAutoPadding(false);
    this.#salt = Buffer.from(sessionSalt);
  }

  /**
   * XORs `data[offset, offset + length)` with the keystream of the packet whose 48-bit index is
   * `indexHigh32 << 16 | indexLow16` (for SRTP: ROC and SEQ) from source `ssrc`.
   */
  apply(
    data: Uint8Array,
    offset: number,
    length: number,
    ssrc: number,
    indexHigh32: number,
    indexLow16: number
  ): void {
    if (length <= 0) return;
    if (length > MAX_KEYSTREAM_BYTES)
      throw new RangeError(`${length} bytes exceed the ${MAX_KEYSTREAM_BYTES}-byte keystream limit`);
    const blocks = (length + 15) >>> 4;
    const counters = this.#countersFor(blocks * 16);
    const salt = this.#salt;
    const s0 = salt[4] ^ (ssrc >>> 24);
    const s1 = salt[5] ^ ((ssrc >>> 16) & 0xff);
    const s2 = salt[6] ^ ((ssrc >>> 8) & 0xff);
    const s3 = salt[7] ^ (ssrc & 0xff);
    const i0 = salt[8] ^ (indexHigh32 >>> 24);
    const i1 = salt[9] ^ ((indexHigh32 >>> 16) & 0xff);
    const i2 = salt[10] ^ ((indexHigh32 >>> 8) & 0xff);
    const i3 = salt[11] ^ (indexHigh32 & 0xff);
    const i4 = salt[12] ^ ((indexLow16 >>> 8) & 0xff);
    const i5 = salt[13] ^ (indexLow16 & 0xff);
    for (let block = 0, at = 0; block < blocks; block++, at += 16) {
      counters[at] = salt[0];
      counters[at + 1] = salt[1];
      counters[at + 2] = salt[2];
      counters[at + 3] = salt[3];
      counters[at + 4] = s0;
      counters[at + 5] = s1;
      counters[at + 6] = s2;
      counters[at + 7] = s3;
      counters[at + 8] = i0;
      counters[at + 9] = i1;
      counters[at + 10] = i2;
      counters[at + 11] = i3;
      counters[at + 12] = i4;
      counters[at + 13] = i5;
      // The low 16 bits are the block counter: a packet never has 2^16 blocks, so no carry.
      counters[at + 14] = block >>> 8;
      counters[at + 15] = block & 0xff;
    }
    let view = this.#view;
    if (view === undefined || view.length !== blocks * 16 || view.buffer !== counters.buffer)
      view = this.#view = counters.subarray(0, blocks * 16);
    const keystream = this.#ecb.update(view);
    for (let i = 0; i < length; i++) data[offset + i] ^= keystream[i];
  }

  #countersFor(bytes: number): Buffer {
    if (bytes <= this.#counters.length) return this.#counters;
    if (this.#large === undefined || this.#large.length < bytes)
      this.#large = Buffer.alloc(MAX_KEYSTREAM_BYTES + 16);
    return this.#large;
  }
}

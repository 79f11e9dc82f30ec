/**
 * Plain-TypeScript G.711 (ITU-T G.711, algorithms of the G.191 STL g711.c), the reference for
 * assembly/g711.ts and the baseline of bench/suites/g711.ts. A-law codes are in wire format
 * (even bits inverted with 0x55).
 */

/** G.191 alaw_compress. */
export function alawCompress(x: number): number {
  let ix = x < 0 ? ~x >> 4 : x >> 4;
  if (ix > 15) {
    let iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      iexp++;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (x >= 0) ix |= 0x80;
  return ix ^ 0x55;
}

/** G.191 alaw_expand. */
export function alawExpand(code: number): number {
  const ix = (code ^ 0x55) & 0x7f;
  const iexp = ix >> 4;
  let mant = ix & 0x0f;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 8;
  if (iexp > 1) mant <<= iexp - 1;
  return code > 127 ? mant : -mant;
}

/** G.191 ulaw_compress. */
export function ulawCompress(x: number): number {
  let absno = x < 0 ? (~x >> 2) + 33 : (x >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  let i = absno >> 6;
  let segno = 1;
  while (i !== 0) {
    segno++;
    i >>= 1;
  }
  const high = 8 - segno;
  const low = 0x0f - ((absno >> segno) & 0x0f);
  let code = (high << 4) | low;
  if (x >= 0) code |= 0x80;
  return code;
}

/** G.191 ulaw_expand. */
export function ulawExpand(code: number): number {
  const sign = code < 0x80 ? -1 : 1;
  let mantissa = ~code;
  const exponent = (mantissa >> 4) & 7;
  const segment = exponent + 1;
  mantissa &= 0x0f;
  const step = 4 << segment;
  return (sign * ((0x80 << exponent) + step * mantissa + (step >> 1) - 4 * 33)) | 0;
}

export type G711Law = 'PCMU' | 'PCMA';

export function g711EncodeFrame(law: G711Law, src: Int16Array, dst: Uint8Array, n: number): void {
  const f = law === 'PCMA' ? alawCompress : ulawCompress;
  for (let i = 0; i < n; i++) dst[i] = f(src[i]);
}

export function g711DecodeFrame(law: G711Law, src: Uint8Array, dst: Int16Array, n: number): void {
  const f = law === 'PCMA' ? alawExpand : ulawExpand;
  for (let i = 0; i < n; i++) dst[i] = f(src[i]);
}

/** RFC 3551 §4.5.11 L16: network byte order. */
export function l16DecodeFrame(src: Uint8Array, dst: Int16Array, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = (src[2 * i] << 8) | src[2 * i + 1];
}

export function l16EncodeFrame(src: Int16Array, dst: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    dst[2 * i] = (src[i] >> 8) & 0xff;
    dst[2 * i + 1] = src[i] & 0xff;
  }
}

/**
 * ITU-T G.711 μ-law and A-law, bit-exact with the G.191 STL reference (g711.c).
 *
 * The encoders are table lookups built once at start from the G.191 algorithm: μ-law depends
 * only on the top 14 bits of the sample (x >> 2), A-law on the top 12 (x >> 4), so a 16 KiB and
 * a 4 KiB table cover every int16 input. Tables live at TABLES (see layout.ts).
 */
import { TABLES, T_ULAW_ENC, T_ALAW_ENC, T_ULAW_DEC, T_ALAW_DEC, CODEC_PCMU, CODEC_PCMA } from './layout';

/** G.191 alaw_compress for one sample (wire format, even bits inverted with 0x55). */
export function alawCompress(x: i32): i32 {
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
export function alawExpand(code: i32): i32 {
  let ix = (code ^ 0x55) & 0x7f;
  const iexp = ix >> 4;
  let mant = ix & 0x0f;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 8;
  if (iexp > 1) mant <<= iexp - 1;
  return code > 127 ? mant : -mant;
}

/** G.191 ulaw_compress. */
export function ulawCompress(x: i32): i32 {
  let absno = x < 0 ? (~x >> 2) + 33 : (x >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  let i = absno >> 6;
  let segno = 1;
  while (i != 0) {
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
export function ulawExpand(code: i32): i32 {
  const sign = code < 0x80 ? -1 : 1;
  let mantissa = ~code;
  const exponent = (mantissa >> 4) & 7;
  const segment = exponent + 1;
  mantissa &= 0x0f;
  const step = 4 << segment;
  return sign * ((0x80 << exponent) + step * mantissa + (step >> 1) - 4 * 33);
}

export function buildG711Tables(): void {
  for (let i = 0; i < 16384; i++) store<u8>(TABLES + T_ULAW_ENC + i, <u8>ulawCompress(((i << 18) >> 18) << 2));
  for (let i = 0; i < 4096; i++) store<u8>(TABLES + T_ALAW_ENC + i, <u8>alawCompress(((i << 20) >> 20) << 4));
  for (let c = 0; c < 256; c++) {
    store<i16>(TABLES + T_ULAW_DEC + (c << 1), <i16>ulawExpand(c));
    store<i16>(TABLES + T_ALAW_DEC + (c << 1), <i16>alawExpand(c));
  }
}

// @ts-ignore: decorator
@inline export function ulawEncode(x: i32): i32 {
  return load<u8>(TABLES + T_ULAW_ENC + ((x >> 2) & 0x3fff));
}

// @ts-ignore: decorator
@inline export function alawEncode(x: i32): i32 {
  return load<u8>(TABLES + T_ALAW_ENC + ((x >> 4) & 0xfff));
}

/** Decodes n G.711 bytes into int16 PCM. */
export function g711DecodeFrame(codec: i32, src: usize, dst: usize, n: i32): void {
  const table = TABLES + (codec == CODEC_PCMU ? T_ULAW_DEC : T_ALAW_DEC);
  for (let i = 0; i < n; i++) {
    store<i16>(dst + (i << 1), load<i16>(table + (<usize>load<u8>(src + i) << 1)));
  }
}

/** Encodes n int16 samples into G.711 bytes. */
export function g711EncodeFrame(codec: i32, src: usize, dst: usize, n: i32): void {
  if (codec == CODEC_PCMA) {
    for (let i = 0; i < n; i++) store<u8>(dst + i, <u8>alawEncode(load<i16>(src + (i << 1))));
  } else if (codec == CODEC_PCMU) {
    for (let i = 0; i < n; i++) store<u8>(dst + i, <u8>ulawEncode(load<i16>(src + (i << 1))));
  }
}

/** L16 (RFC 3551 §4.5.11, network byte order) to int16. */
export function l16DecodeFrame(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const b = <usize>i << 1;
    store<i16>(dst + b, <i16>((<i32>load<u8>(src + b) << 8) | load<u8>(src + b + 1)));
  }
}

export function l16EncodeFrame(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const b = <usize>i << 1;
    const x = load<u16>(src + b);
    store<u8>(dst + b, <u8>(x >> 8));
    store<u8>(dst + b + 1, <u8>x);
  }
}

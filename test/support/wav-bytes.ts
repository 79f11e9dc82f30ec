/**
 * Builds WAV files chunk by chunk for the decoder tests, where a hostile header needs exact
 * control of every field (a `wavefile`-written file is used where only the samples matter).
 */

/** A chunk: id, little-endian size (the body's length unless `declaredBytes` lies), body, pad byte. */
export function chunk(id: string, body: Uint8Array, declaredBytes = body.length): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(declaredBytes, 4);
  return Buffer.concat([header, body, Buffer.alloc(body.length & 1)]);
}

/** A RIFF/WAVE file of the chunks given, in order. */
export function riffWave(chunks: readonly Uint8Array[]): Buffer {
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WAVE', 8, 'latin1');
  return Buffer.concat([header, body]);
}

export interface FmtFields {
  formatTag: number;
  channels: number;
  sampleRateHz: number;
  bitsPerSample: number;
  /** WAVE_FORMAT_EXTENSIBLE (0xFFFE) with a sub-format GUID `{0000tttt-0000-0010-8000-00AA00389B71}`. */
  subFormatTag?: number;
  /** Replaces the GUID's fixed tail (bytes 2..15), to make a GUID that is not a KSDATAFORMAT one. */
  guidTail?: readonly number[];
}

/** KSDATAFORMAT_SUBTYPE_* GUIDs after their first two bytes (mmreg.h / ksmedia.h). */
export const KSDATAFORMAT_GUID_TAIL = [
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71
];

/** A `fmt ` chunk: WAVEFORMATEX (16 bytes), or WAVEFORMATEXTENSIBLE (40) with `subFormatTag`. */
export function fmtChunk(fields: FmtFields): Buffer {
  const extensible = fields.subFormatTag !== undefined;
  const body = Buffer.alloc(extensible ? 40 : 16);
  const blockAlign = (fields.channels * fields.bitsPerSample) / 8;
  body.writeUInt16LE(extensible ? 0xfffe : fields.formatTag, 0);
  body.writeUInt16LE(fields.channels, 2);
  body.writeUInt32LE(fields.sampleRateHz, 4);
  body.writeUInt32LE((fields.sampleRateHz * blockAlign) >>> 0, 8);
  body.writeUInt16LE(blockAlign & 0xffff, 12);
  body.writeUInt16LE(fields.bitsPerSample, 14);
  if (extensible) {
    body.writeUInt16LE(22, 16); // cbSize
    body.writeUInt16LE(fields.bitsPerSample, 18); // wValidBitsPerSample
    body.writeUInt32LE(fields.channels === 1 ? 0x4 : 0x3, 20); // dwChannelMask: centre, or left + right
    body.writeUInt16LE(fields.subFormatTag as number, 24);
    Buffer.from(fields.guidTail ?? KSDATAFORMAT_GUID_TAIL).copy(body, 26);
  }
  return chunk('fmt ', body);
}

/**
 * decodeWav sample by sample: files written by `wavefile` in every supported encoding decode to
 * the values the `wavefile`-based decoder produced (integers over 2^(n−1)−1 when positive and
 * 2^(n−1) when negative, G.711 through the G.191 expansion, channels averaged), now read
 * straight from the `data` chunk.
 */
import wavefile from 'wavefile';
import { describe, expect, it } from 'vitest';
import { alawExpand, ulawExpand } from '../../engine/dsp/reference/g711.js';
import { WAV_MAX_DURATION_S, decodeWav } from '../../tts/wav-decoder.js';
import { mulberry32 } from '../support/prng.js';
import { chunk, fmtChunk, riffWave } from '../support/wav-bytes.js';

type Container = 'RIFF' | 'RIFX';

function writeWav(
  channels: number,
  bitDepthCode: string,
  interleaved: readonly number[],
  container: Container = 'RIFF'
): Uint8Array {
  const perChannel = Array.from({ length: channels }, (_, c) =>
    interleaved.filter((_, i) => i % channels === c)
  );
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels, 8000, bitDepthCode, channels === 1 ? perChannel[0] : perChannel, { container });
  return wav.toBuffer();
}

/** Integer samples of `bits` bits: zero, ±1, both full-scale codes, then seeded random values. */
function integerSamples(bits: number, count: number): number[] {
  const random = mulberry32(bits * 7919 + count);
  const min = -(2 ** (bits - 1));
  const span = 2 ** bits;
  const fixed = [0, 1, -1, span / 2 - 1, min, span / 4, -span / 4];
  return [...fixed, ...Array.from({ length: count - fixed.length }, () => min + Math.floor(random() * span))];
}

function scaleInteger(s: number, bits: number): number {
  return s > 0 ? s / (2 ** (bits - 1) - 1) : s / 2 ** (bits - 1);
}

/** What decodeWav must return: each channel rounded to float32, then the frame's average. */
function expectedMono(values: readonly number[], channels: number): Float32Array {
  const rounded = values.map((v) => Math.fround(v));
  const out = new Float32Array(Math.floor(values.length / channels));
  for (let f = 0; f < out.length; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += rounded[f * channels + c];
    out[f] = sum / channels;
  }
  return out;
}

function expectSamples(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const first = actual.findIndex((v, i) => !Object.is(v, expected[i]));
  expect(first, `first differing sample ${first}: ${actual[first]} vs ${expected[first]}`).toBe(-1);
}

describe('decodeWav sample values', () => {
  for (const container of ['RIFF', 'RIFX'] as const) {
    for (const channels of [1, 2]) {
      for (const bits of [16, 24, 32]) {
        it(`${container} ${bits}-bit PCM, ${channels} channel(s)`, () => {
          const ints = integerSamples(bits, 400);
          const decoded = decodeWav(writeWav(channels, String(bits), ints, container));
          expect(decoded.sampleRateHz).toBe(8000);
          expectSamples(
            decoded.samples,
            expectedMono(
              ints.map((s) => scaleInteger(s, bits)),
              channels
            )
          );
        });
      }
    }
  }

  it('8-bit unsigned PCM, mono and stereo, 128 being silence', () => {
    const codes = [128, 255, 0, 129, 127, ...integerSamples(8, 299).map((s) => s + 128)];
    for (const channels of [1, 2]) {
      const decoded = decodeWav(writeWav(channels, '8', codes));
      expectSamples(
        decoded.samples,
        expectedMono(
          codes.map((u) => scaleInteger(u - 128, 8)),
          channels
        )
      );
    }
  });

  it('32 and 64-bit float, including values past full scale', () => {
    const random = mulberry32(64);
    const values = [0, 1, -1, 1.5, -0.1, 1e-30, ...Array.from({ length: 300 }, () => random() * 2 - 1)];
    for (const depth of ['32f', '64']) {
      for (const channels of [1, 2]) {
        const decoded = decodeWav(writeWav(channels, depth, values));
        expectSamples(decoded.samples, expectedMono(values, channels));
      }
    }
  });

  it('G.711 μ-law and A-law: every code as ITU-T G.191 expands it', () => {
    const codes = Array.from({ length: 256 }, (_, code) => code);
    for (const [depth, expand] of [
      ['8m', ulawExpand],
      ['8a', alawExpand]
    ] as const) {
      for (const channels of [1, 2]) {
        const decoded = decodeWav(writeWav(channels, depth, codes));
        expectSamples(
          decoded.samples,
          expectedMono(
            codes.map((code) => scaleInteger(expand(code), 16)),
            channels
          )
        );
      }
    }
  });

  it('keeps the known values of full scale, half scale and silence', () => {
    expect(Array.from(decodeWav(writeWav(1, '16', [32767, -32768, -16384, 16384, 0])).samples)).toEqual([
      1, -1, -0.5, 0.5000152587890625, 0
    ]);
    // μ-law 0x00 and 0x80 are the largest negative and positive codes (±32124); 0xFF is zero.
    expect(Array.from(decodeWav(writeWav(1, '8m', [0x00, 0x80, 0xff])).samples)).toEqual([
      -0.9803466796875,
      Math.fround(32124 / 32767),
      0
    ]);
  });

  it('decodes the whole frames of a data chunk cut short, as far as the file goes', () => {
    const full = writeWav(1, '16', integerSamples(16, 100));
    const cut = full.subarray(0, full.length - 3); // 98 whole samples and one byte left
    const decoded = decodeWav(cut);
    expectSamples(decoded.samples, decodeWav(full).samples.subarray(0, 98));
  });
});

describe('decodeWav duration limit', () => {
  /** 8-bit mono at 1 kHz: an hour is 3.6 MB, so the limit is reached far below the byte limit. */
  const oneKilohertz = (frames: number): Uint8Array =>
    riffWave([
      fmtChunk({ formatTag: 1, channels: 1, sampleRateHz: 1000, bitsPerSample: 8 }),
      chunk('data', Buffer.alloc(frames, 128))
    ]);

  it(`decodes a file of exactly ${WAV_MAX_DURATION_S} s`, () => {
    expect(decodeWav(oneKilohertz(WAV_MAX_DURATION_S * 1000)).samples.length).toBe(WAV_MAX_DURATION_S * 1000);
  });

  it('refuses a file one frame longer with ERR_FILE_UNREADABLE, saying how long it is', () => {
    const error = (() => {
      try {
        decodeWav(oneKilohertz(WAV_MAX_DURATION_S * 1000 + 1), 'prompt file long.wav');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({
      code: 'ERR_FILE_UNREADABLE',
      message: 'prompt file long.wav holds 3600001 frames at 1000 Hz (3600.001 s); the limit is 3600 s'
    });
  });

  it('counts the frames of all channels together, not the samples', () => {
    const stereo = riffWave([
      fmtChunk({ formatTag: 1, channels: 2, sampleRateHz: 1000, bitsPerSample: 8 }),
      chunk('data', Buffer.alloc(2 * WAV_MAX_DURATION_S * 1000, 128))
    ]);
    expect(decodeWav(stereo).samples.length).toBe(WAV_MAX_DURATION_S * 1000);
  });
});

describe('decodeWav WAVE_FORMAT_EXTENSIBLE', () => {
  const plainAndExtensible = (
    formatTag: number,
    bitsPerSample: number,
    data: Buffer
  ): [Uint8Array, Uint8Array] => {
    const fields = { formatTag, channels: 2, sampleRateHz: 16000, bitsPerSample };
    return [
      riffWave([fmtChunk(fields), chunk('data', data)]),
      riffWave([fmtChunk({ ...fields, subFormatTag: formatTag }), chunk('data', data)])
    ];
  };
  const random = mulberry32(0xfffe);
  const floats = Buffer.from(Float32Array.from({ length: 200 }, () => random() * 2 - 1).buffer);
  const codes = Buffer.from(Array.from({ length: 256 }, (_, code) => code));

  for (const [name, formatTag, bits, data] of [
    ['PCM 16-bit', 1, 16, Buffer.from(Int16Array.from(integerSamples(16, 200)).buffer)],
    ['PCM 24-bit', 1, 24, Buffer.from(Array.from({ length: 600 }, () => Math.floor(random() * 256)))],
    ['IEEE float 32-bit', 3, 32, floats],
    ['μ-law', 7, 8, codes],
    ['A-law', 6, 8, codes]
  ] as const) {
    it(`decodes the ${name} sub-format as the plain format tag`, () => {
      const [plain, extensible] = plainAndExtensible(formatTag, bits, data);
      const decoded = decodeWav(extensible);
      expectSamples(decoded.samples, decodeWav(plain).samples);
      expect(decoded.source.audioFormat).toBe(formatTag);
    });
  }

  it('refuses a sub-format it does not decode, or a GUID that is not a KSDATAFORMAT one, as unsupported', () => {
    const data = chunk('data', Buffer.alloc(64));
    const adpcm = fmtChunk({
      formatTag: 0,
      channels: 1,
      sampleRateHz: 8000,
      bitsPerSample: 4,
      subFormatTag: 2
    });
    // KSDATAFORMAT_SUBTYPE_AMBISONIC_B_FORMAT_PCM {00000001-0721-11d3-8644-c8c1ca000000}: tag 1, other tail.
    const bFormat = fmtChunk({
      formatTag: 0,
      channels: 4,
      sampleRateHz: 8000,
      bitsPerSample: 16,
      subFormatTag: 1,
      guidTail: [0x00, 0x00, 0x21, 0x07, 0xd3, 0x11, 0x86, 0x44, 0xc8, 0xc1, 0xca, 0x00, 0x00, 0x00]
    });
    expect(() => decodeWav(riffWave([adpcm, data]))).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_WAV' })
    );
    expect(() => decodeWav(riffWave([bFormat, data]))).toThrow(
      expect.objectContaining({
        code: 'ERR_UNSUPPORTED_WAV',
        message: expect.stringContaining('{00000001-0721-11d3-8644-c8c1ca000000}')
      })
    );
  });

  it('refuses an extensible fmt chunk too short to hold its sub-format as a corrupt header', () => {
    const full = fmtChunk({
      formatTag: 0,
      channels: 1,
      sampleRateHz: 8000,
      bitsPerSample: 16,
      subFormatTag: 1
    });
    const short = chunk('fmt ', full.subarray(8, 8 + 18));
    expect(() => decodeWav(riffWave([short, chunk('data', Buffer.alloc(4))]))).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_WAV' })
    );
  });
});

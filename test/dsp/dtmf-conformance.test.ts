/**
 * DTMF conformance battery for the WASM detector, generated with fixed seeds (ITU-T Q.24 /
 * Bellcore limits): all 16 digits with start and duration, frequency deviation, twist,
 * durations 20-100 ms, pauses and interruptions, levels, SNR in white noise, 16 kHz input, and
 * talk-off on vowel-like, music-like and real (eSpeak NG) speech. Detection and false-alarm rates
 * are printed as a table.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { WasmDtmf } from '../support/dtmf-harness.js';
import * as S from '../support/dtmf-signals.js';
import { loadSpeech, withGain, SPEECH_FIXTURES } from '../support/dtmf-speech.js';

const wasm = new WasmDtmf();
const table: string[][] = [['case', 'trials', 'detected', 'wrong/extra']];

afterAll(() => {
  const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  console.log(
    '\nDTMF conformance (WASM detector)\n' +
      table.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n')
  );
});

interface Trial {
  digit: string;
  tone: Omit<S.ToneOptions, 'sampleRateHz'>;
  snrDb?: number;
}

interface Score {
  trials: number;
  detected: number;
  wrong: number;
  startErrors: number[];
  durationErrors: number[];
}

/** Each trial alone: lead-in silence, the digit, silence; right = exactly one report of it. */
function score(name: string, trials: Trial[], seed: number, sampleRateHz = 8000): Score {
  const rand = S.dtmfPrng(seed);
  const s: Score = { trials: trials.length, detected: 0, wrong: 0, startErrors: [], durationErrors: [] };
  for (const t of trials) {
    const b = new S.SignalBuilder(sampleRateHz).silence(20 + 30 * rand());
    b.digit(t.digit, { lowPhase: 6.3 * rand(), highPhase: 6.3 * rand(), ...t.tone }).silence(120);
    let x = b.build();
    if (t.snrDb !== undefined)
      x = S.addNoise(x, S.dtmfPower(t.tone.lowDbm0 ?? -10, t.tone.twistDb ?? 0), t.snrDb, rand);
    const events = wasm.run(S.toPcm16(x), sampleRateHz).events;
    const right = events.filter((e) => e.digit === t.digit);
    if (right.length === 1) {
      s.detected++;
      s.startErrors.push(right[0].startSample - b.segments[0].startSample);
      s.durationErrors.push(right[0].durationSamples - b.segments[0].samples);
    }
    s.wrong += events.length - Math.min(1, right.length);
  }
  table.push([name, String(s.trials), `${((100 * s.detected) / s.trials).toFixed(0)} %`, String(s.wrong)]);
  return s;
}

function allDigits(tone: Trial['tone'], snrDb?: number, repeat = 1): Trial[] {
  const out: Trial[] = [];
  for (let r = 0; r < repeat; r++) for (const digit of S.DTMF_DIGITS) out.push({ digit, tone, snrDb });
  return out;
}

describe('DTMF conformance (ITU-T Q.24)', () => {
  it('detects each of the 16 digits once, with its start and duration within 10 ms', () => {
    for (const rate of [8000, 16000]) {
      const s = score(
        `all 16 digits, 50 ms, -10 dBm0, ${rate / 1000} kHz`,
        allDigits({ durationMs: 50 }, undefined, 3),
        1,
        rate
      );
      expect(s.detected).toBe(s.trials);
      expect(s.wrong).toBe(0);
      const tol = (10 * rate) / 1000;
      for (const e of [...s.startErrors, ...s.durationErrors]) expect(Math.abs(e)).toBeLessThanOrEqual(tol);
    }
  });

  it('accepts frequency errors up to ±1.5 % and rejects ±3.5 % and beyond', () => {
    for (const dev of [-0.015, -0.01, 0.01, 0.015]) {
      for (const [which, tone] of [
        ['both', { lowDeviation: dev, highDeviation: dev }],
        ['low', { lowDeviation: dev }],
        ['high', { highDeviation: dev }],
        ['opposite', { lowDeviation: dev, highDeviation: -dev }]
      ] as const) {
        const s = score(
          `deviation ${(dev * 100).toFixed(1)} % (${which})`,
          allDigits({ durationMs: 50, ...tone }),
          2
        );
        expect(s.detected).toBe(s.trials);
      }
    }
    for (const dev of [-0.02, -0.025, -0.03, 0.02, 0.025, 0.03]) {
      score(
        `deviation ${(dev * 100).toFixed(1)} % (both; don't care)`,
        allDigits({ durationMs: 50, lowDeviation: dev, highDeviation: dev }),
        3
      );
    }
    for (const dev of [-0.06, -0.035, 0.035, 0.06]) {
      for (const tone of [
        { lowDeviation: dev },
        { highDeviation: dev },
        { lowDeviation: dev, highDeviation: dev }
      ]) {
        const s = score(
          `deviation ${(dev * 100).toFixed(1)} % (${Object.keys(tone).join('+')})`,
          allDigits({ durationMs: 80, ...tone }),
          4
        );
        expect(s.detected).toBe(0);
      }
    }
  });

  it('accepts 4 dB normal and 8 dB reverse twist and rejects clearly more', () => {
    for (const twistDb of [-8, -6, -4, -2, 0, 2, 4]) {
      const s = score(
        `twist ${twistDb > 0 ? '+' : ''}${twistDb} dB`,
        allDigits({ durationMs: 50, twistDb, lowDbm0: twistDb > 0 ? -12 : -8 }),
        5
      );
      expect(s.detected).toBe(s.trials);
    }
    for (const twistDb of [-10, 6])
      score(
        `twist ${twistDb > 0 ? '+' : ''}${twistDb} dB (guard band)`,
        allDigits({ durationMs: 50, twistDb }),
        6
      );
    for (const twistDb of [-14, -12, 8, 10]) {
      const s = score(
        `twist ${twistDb > 0 ? '+' : ''}${twistDb} dB`,
        allDigits({ durationMs: 80, twistDb, lowDbm0: twistDb > 0 ? -15 : -5 }),
        7
      );
      expect(s.detected).toBe(0);
    }
  });

  it('detects tones of 40 ms and more (shorter ones are reported, not required)', () => {
    for (const durationMs of [20, 25, 30, 35, 40, 45, 50, 60, 80, 100]) {
      const s = score(`duration ${durationMs} ms`, allDigits({ durationMs }, undefined, 2), 8);
      if (durationMs >= 40) expect(s.detected).toBe(s.trials);
      expect(s.wrong).toBe(0);
    }
  });

  it('separates repeated digits by a 40 ms pause and bridges a 10 ms interruption', () => {
    const rand = S.dtmfPrng(9);
    let separated = 0;
    let bridged = 0;
    for (const digit of S.DTMF_DIGITS) {
      const tone = (): Omit<S.ToneOptions, 'sampleRateHz'> => ({
        durationMs: 40,
        lowPhase: 6.3 * rand(),
        highPhase: 6.3 * rand()
      });
      const b = new S.SignalBuilder().silence(30);
      for (let i = 0; i < 4; i++) b.digit(digit, tone()).silence(40);
      const events = wasm.run(S.toPcm16(b.silence(60).build())).events;
      expect(events.map((e) => e.digit).join('')).toBe(digit.repeat(4));
      separated += events.length;
      const c = new S.SignalBuilder()
        .silence(30)
        .digit(digit, { ...tone(), durationMs: 60 })
        .silence(10)
        .digit(digit, { ...tone(), durationMs: 60 })
        .silence(80);
      const bridgedEvents = wasm.run(S.toPcm16(c.build())).events;
      if (bridgedEvents.length === 1 && bridgedEvents[0].digit === digit) bridged++;
    }
    table.push(['4 x 40 ms tone / 40 ms pause', '64', `${((100 * separated) / 64).toFixed(0)} %`, '0']);
    table.push([
      '60 ms + 10 ms gap + 60 ms = one digit',
      '16',
      `${((100 * bridged) / 16).toFixed(0)} %`,
      '-'
    ]);
    expect(bridged).toBeGreaterThanOrEqual(14);
    const mixed = new S.SignalBuilder().silence(30);
    for (const digit of '0123456789*#ABCD') mixed.digit(digit, { durationMs: 40 }).silence(40);
    expect(
      wasm
        .run(S.toPcm16(mixed.silence(60).build()))
        .events.map((e) => e.digit)
        .join('')
    ).toBe('0123456789*#ABCD');
  });

  it('accepts tones down to -30 dBm0 and rejects -40 dBm0 and below', () => {
    for (const lowDbm0 of [0, -10, -20, -25, -30]) {
      const s = score(`level ${lowDbm0} dBm0 per tone`, allDigits({ durationMs: 50, lowDbm0 }), 10);
      expect(s.detected).toBe(s.trials);
    }
    for (const lowDbm0 of [-40, -45]) {
      const s = score(`level ${lowDbm0} dBm0 per tone`, allDigits({ durationMs: 80, lowDbm0 }), 11);
      expect(s.detected).toBe(0);
    }
  });

  it('detects every digit at 15 dB SNR in white noise', () => {
    for (const snrDb of [6, 9, 12])
      score(`SNR ${snrDb} dB, -20 dBm0, 50 ms`, allDigits({ durationMs: 50, lowDbm0: -20 }, snrDb, 3), 12);
    for (const snrDb of [15, 20, 30]) {
      const s = score(
        `SNR ${snrDb} dB, -20 dBm0, 50 ms`,
        allDigits({ durationMs: 50, lowDbm0: -20 }, snrDb, 5),
        13
      );
      expect(s.detected).toBe(s.trials);
      expect(s.wrong).toBe(0);
    }
    score(
      'SNR 15 dB, 40 ms, -8 dB twist, ±1.5 % (corner)',
      allDigits({ durationMs: 40, twistDb: -8, lowDeviation: 0.015, highDeviation: -0.015 }, 15, 3),
      14
    );
  });
});

describe('DTMF talk-off', () => {
  function falseAlarms(name: string, pcm: Int16Array, seconds: number, rate = 8000): number {
    const n = wasm.run(pcm, rate).events.length;
    table.push([
      `talk-off: ${name}`,
      `${seconds.toFixed(0)} s`,
      '-',
      `${n} (${(n / (seconds / 60)).toFixed(2)}/min)`
    ]);
    return n;
  }

  it('finds no digit in vowel-like harmonic signals', () => {
    const rand = S.dtmfPrng(20);
    const parts: Float64Array[] = [];
    for (let i = 0; i < 120; i++) parts.push(S.vowelLike(rand, 0.5 + rand(), 8000, -5 - 25 * rand()));
    const x = new S.SignalBuilder();
    for (const p of parts) x.samples(p).silence(20);
    const pcm = S.toPcm16(x.build());
    expect(falseAlarms('vowel-like harmonics (120 vowels, f0 85-265 Hz)', pcm, pcm.length / 8000)).toBe(0);
  });

  it('finds no digit in music-like note sequences', () => {
    const rand = S.dtmfPrng(21);
    const pcm = S.toPcm16(S.musicLike(rand, 90, 8000, -12));
    expect(falseAlarms('music-like notes and dyads', pcm, 90)).toBe(0);
  });

  it('finds no digit in real speech at several levels, nor in white noise', () => {
    for (const name of SPEECH_FIXTURES) {
      const speech = loadSpeech(name);
      for (const gainDb of [-15, -6, 0, 6, 10]) {
        expect(
          falseAlarms(
            `${name} ${gainDb >= 0 ? '+' : ''}${gainDb} dB`,
            withGain(speech, gainDb),
            speech.length / 8000
          )
        ).toBe(0);
      }
    }
    const rand = S.dtmfPrng(22);
    for (const dbm0 of [-40, -20, -5]) {
      const noise = S.addNoise(new Float64Array(8000 * 20), S.amplitudeAt(dbm0) ** 2 / 2, 0, rand);
      expect(falseAlarms(`white noise ${dbm0} dBm0`, S.toPcm16(noise), 20)).toBe(0);
    }
  });
});

/**
 * Speech for the DTMF talk-off tests: two short eSpeak NG recordings (a male and a female
 * voice, produced once with the Debian `espeak-ng` CLI and `sox`, stored as 8 kHz G.711 μ-law
 * WAV under test/fixtures/speech/), decoded to 16-bit PCM with wavefile.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wavefile from 'wavefile';

export const SPEECH_FIXTURES = ['espeak-m-8k-ulaw.wav', 'espeak-f-8k-ulaw.wav'] as const;

/** 8 kHz linear PCM of one fixture. */
export function loadSpeech(name: (typeof SPEECH_FIXTURES)[number]): Int16Array {
  const path = fileURLToPath(new URL(`../fixtures/speech/${name}`, import.meta.url));
  const wav = new wavefile.WaveFile(readFileSync(path));
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  if (fmt.sampleRate !== 8000 || fmt.numChannels !== 1) throw new Error(`${name}: expected 8 kHz mono`);
  wav.fromMuLaw();
  return Int16Array.from(wav.getSamples(false, Int16Array) as unknown as ArrayLike<number>);
}

/** The same speech, louder or quieter by `gainDb`, saturated to 16 bits. */
export function withGain(pcm: Int16Array, gainDb: number): Int16Array {
  const g = 10 ** (gainDb / 20);
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(pcm[i] * g)));
  return out;
}

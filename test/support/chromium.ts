/**
 * Debian's Chromium driven by playwright-core (no browser download), with a fake microphone
 * playing a WAV made at test time, and helpers to read what the join page hears through its
 * WebAudio AnalyserNode.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface FakeMicBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** A 48 kHz mono WAV of a sine at `toneHz` (Chromium loops the file). */
function toneWav(path: string, toneHz: number, seconds = 10, amplitude = 6000): void {
  const samples = new Int16Array(48000 * seconds);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * toneHz * i) / 48000));
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, 48000, '16', samples);
  writeFileSync(path, wav.toBuffer());
}

export async function launchWithToneMic(toneHz: number): Promise<FakeMicBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'uasmedia-chromium-'));
  const wavPath = join(dir, 'mic.wav');
  toneWav(wavPath, toneHz);
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${wavPath}`,
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      // playwright gives every launch a fresh profile directory of its own.
      '--disable-sync'
    ]
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/**
 * Levels (dB, the AnalyserNode's scale) at each frequency in what the page hears: the peak of
 * the bins within ±10 Hz, averaged over `frames` spectra taken 50 ms apart.
 */
export async function pageToneLevels(page: Page, frequenciesHz: number[], frames = 20): Promise<number[]> {
  return page.evaluate(
    async ({ frequenciesHz, frames }) => {
      const join = (
        window as unknown as { uasmediaJoin: { analyser?: AnalyserNode; audioContext?: AudioContext } }
      ).uasmediaJoin;
      const analyser = join.analyser;
      const context = join.audioContext;
      if (!analyser || !context) throw new Error('the page has no analyser yet');
      const bins = new Float32Array(analyser.frequencyBinCount);
      const sums = frequenciesHz.map(() => 0);
      const binHz = context.sampleRate / analyser.fftSize;
      for (let f = 0; f < frames; f++) {
        analyser.getFloatFrequencyData(bins);
        frequenciesHz.forEach((hz, i) => {
          let peak = -Infinity;
          for (let b = Math.floor((hz - 10) / binHz); b <= Math.ceil((hz + 10) / binHz); b++)
            peak = Math.max(peak, bins[b]);
          sums[i] += Math.max(peak, -200);
        });
        await new Promise((r) => setTimeout(r, 50));
      }
      return sums.map((s) => s / frames);
    },
    { frequenciesHz, frames }
  );
}

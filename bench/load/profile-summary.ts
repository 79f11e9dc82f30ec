/**
 * Attributes the self time of a V8 .cpuprofile (from `node --cpu-prof`) to the engine's stages,
 * by the source file or built-in each sample's function belongs to.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const STAGES: Array<[string, (url: string, fn: string) => boolean]> = [
  ['DSP (wasm)', (url) => url.startsWith('wasm://') || url.includes('.wasm')],
  ['DSP glue (engine/dsp)', (url) => url.includes('/engine/dsp/')],
  ['jitter buffer', (url) => url.includes('jitter-buffer')],
  ['RTP (packets, RTCP, sessions)', (url) => url.includes('/engine/rtp/')],
  ['talker detection', (url) => url.includes('/engine/talker/') || url.includes('meyda')],
  ['mixing loop and media legs', (url) => url.includes('/engine/media/') || url.includes('/engine/clock/')],
  ['conference and channels', (url) => url.includes('/engine/') ],
  ['SIP', (url) => url.includes('/sip/')],
  ['TTS', (url) => url.includes('/tts/')],
  ['socket I/O (dgram, libuv)', (url, fn) => url.includes('dgram') || url.includes('node:internal/dgram') || /^(send|onMessage|doSend|afterSend|_handle)/.test(fn)],
  ['GC', (_url, fn) => fn === '(garbage collector)'],
  ['idle', (_url, fn) => fn === '(idle)'],
  ['program (native, event loop)', (_url, fn) => fn === '(program)'],
  ['other Node internals', (url) => url.startsWith('node:')],
  ['other', () => true]
];

export function summariseProfile(path: string): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const dt = profile.timeDeltas[i] ?? 0;
    const { url, functionName } = node.callFrame;
    const stage = STAGES.find(([, match]) => match(url, functionName))?.[0] ?? 'other';
    totals.set(stage, (totals.get(stage) ?? 0) + dt);
    all += dt;
  });
  const busy = all - (totals.get('idle') ?? 0);
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([stage, us]) => {
      const share = stage === 'idle' ? '' : `${((100 * us) / busy).toFixed(1)} % of busy time`;
      return `  ${stage.padEnd(32)} ${(us / 1000).toFixed(0).padStart(8)} ms  ${share}`;
    })
    .join('\n');
}

if (process.argv[1]?.endsWith('profile-summary.ts') && process.argv[2]) console.log(summariseProfile(process.argv[2]));

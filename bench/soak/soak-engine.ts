/**
 * The engine side of `npm run soak`, in its own process so its descriptors, RSS and heap are its
 * own. The Request-URI's user says what a call is for:
 *   room<N>     answered, greeted by name (TTS), transferred into conference room<N> until the caller leaves
 *   play<N>     answered, plays a WAV prompt and a sentence, hangs up
 *   record<N>   answered, records a second into the record folder (deleted once saved), hangs up
 *   retrieve<N> answered, transferred into room<N>, taken back out by the application, hung up
 *   moderate<N> answered, transferred into room<N>, moderated (muted, volumes, held, coaching
 *               another caller there), removed by the application, hung up
 *   refused<N>  refused with 403 before any channel exists
 * The orchestrator asks for samples over IPC: `engine.resources()`, memory (heap after a full GC
 * when asked), call outcomes and frame-clock lateness.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import {
  Engine,
  EngineError,
  State,
  ConferenceLifetimeControl,
  type Party,
  type UASCallChannel
} from '../../engine/index.js';
import { callerName, conferenceSettings } from '../../engine/app/meet-me.js';
import type { SoakSample, FromSoakEngine, ToSoakEngine } from './protocol.js';
import { residentByKind } from './memory-map.js';

const folder = mkdtempSync(join(tmpdir(), 'uasmedia-soak-'));
const prompts = join(folder, 'prompts');
const recordings = join(folder, 'recordings');
for (const dir of [prompts, recordings]) mkdirSync(dir, { recursive: true });
copyFileSync(
  fileURLToPath(new URL('../../test/fixtures/wav/tone-8000-s16.wav', import.meta.url)),
  join(prompts, 'prompt.wav')
);

const engine = new Engine({
  sip: {
    host: '127.0.0.1',
    port: 0,
    transports: ['udp'],
    // A never-ACKed 200 is given up after 64·T1: 6.4 s here instead of 32 s.
    timers: { t1Ms: 100, t2Ms: 400 },
    sessionTimer: { expiresSeconds: 30, minSeSeconds: 10 }
  },
  rtp: { minPort: 45000, maxPort: 45999, inactivityTimeoutSeconds: 3 },
  files: { playFolders: [prompts], recordFolder: recordings },
  // Every caller's name is spoken, and each is new: with the default 32 MiB the prompt cache
  // would still be filling at the end of a 10-minute run, growing heap and RSS by design. A small
  // bound is reached in the first minute, so growth after that would be a leak.
  tts: { cacheBytes: 2 * 1024 * 1024 },
  incomingCallTimeoutSeconds: 10,
  logLevel: 'error',
  inviteFilter: (request) =>
    /^sip:refused/.test(request.uri) ? { status: 403, reason: 'Forbidden' } : undefined
});

const outcomes: Record<string, number> = {};
let recordingsMade = 0;
function count(what: string): void {
  outcomes[what] = (outcomes[what] ?? 0) + 1;
}

async function serve(channel: UASCallChannel): Promise<void> {
  const user = /^sips?:([a-z]+)(\d*)@/.exec(channel.requestUri ?? '');
  const kind = user?.[1] ?? 'room';
  const room = `soak${user?.[2] ?? '0'}`;
  try {
    if ((await channel.answer()) !== State.ANSWERED) return;
    if (kind === 'play') {
      await channel.playFile('prompt.wav');
      await channel.playText('Thank you for calling.');
      await channel.hangUp();
    } else if (kind === 'record') {
      const name = `rec-${++recordingsMade}.wav`;
      await channel.record(name, { maxSeconds: 1 });
      unlinkSync(join(recordings, name));
      await channel.hangUp();
    } else {
      const state = await channel.transferToConferenceRoom(engine.createChannel(), room, {
        conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
        conferencePartyMediaSettings: conferenceSettings(callerName(channel)),
        secondsTimeout: 10
      });
      if (state !== State.TRANSFERRED) {
        await channel.hangUp();
        return;
      }
      if (kind === 'moderate') {
        await moderate(room, channel);
        await channel.waitForTransferredCallRetrieval();
        await channel.hangUp();
      } else if (kind === 'retrieve') {
        await new Promise((r) => setTimeout(r, 1500));
        if (channel.state === State.TRANSFERRED) await channel.retrieveTransferredCall();
        await channel.hangUp();
      } else {
        await channel.waitForTransferredCallRetrieval();
        await channel.hangUp();
      }
    }
  } catch {
    await channel.hangUp().catch(() => undefined);
  }
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Every moderator's control on the caller's party, a pause after each, then its removal. A refusal
 * (the coached party left meanwhile, as callers come and go) is counted, and the next step taken.
 */
async function moderate(roomName: string, channel: UASCallChannel): Promise<void> {
  const room = engine.conference(roomName);
  if (room === undefined) return;
  const party = channel.id;
  // Another caller there now, if any (the first one found when the moderation began may have left).
  const agent = (): Party | undefined => room.parties.find((p) => p.channelId !== party && !p.left);
  const steps: Array<[string, () => Promise<void>]> = [
    ['mute', () => room.mute(party)],
    ['unmute', () => room.unmute(party)],
    ['talk volume', () => room.setTalkVolume(party, -6)],
    ['listen volume', () => room.setListenVolume(party, 3)],
    ['hold', () => room.hold(party, { fileToPlay: 'prompt.wav' })],
    ['unhold', () => room.unhold(party)],
    [
      'coach',
      async () => {
        const other = agent();
        if (other === undefined) throw new Error('alone in the room, no one to coach');
        await room.coach(party, other);
      }
    ],
    ['stop coaching', () => room.stopCoaching(party)],
    ['remove', () => room.remove(party)]
  ];
  for (const [name, step] of steps) {
    try {
      await step();
      count(`moderated: ${name}`);
    } catch (error) {
      count(`moderation refused: ${error instanceof EngineError ? error.code : String(error)}`);
    }
    await pause(300);
  }
}

engine.on('call', (channel) => {
  channel.on('stateChange', ({ state }) => {
    if (state === State.IDLE) count(`ended ${channel.cause()}`);
  });
  void serve(channel);
});
engine.on('error', () => count('engine error'));

const hasSmaps = existsSync('/proc/self/smaps');

function sample(fullGc: boolean): SoakSample {
  if (fullGc) (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const clock = engine.clockStats();
  return {
    resources: engine.resources(),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    codeSpaceBytes: getHeapSpaceStatistics()
      .filter((space) => space.space_name.startsWith('code'))
      .reduce((sum, space) => sum + space.space_used_size, 0),
    heapCommittedBytes: memory.heapTotal,
    resident: hasSmaps ? residentByKind(readFileSync('/proc/self/smaps', 'utf8')) : undefined,
    externalBytes: memory.external,
    outcomes: { ...outcomes },
    lateTicks: clock.lateTicks,
    ticks: clock.ticks
  };
}

function send(message: FromSoakEngine): void {
  process.send?.(message);
}

process.on('disconnect', () => process.exit(1));
process.on('message', (message: ToSoakEngine) => {
  if (message.type === 'sample') {
    const s = sample(message.fullGc);
    if (message.heapSnapshotPath) writeHeapSnapshot(message.heapSnapshotPath);
    send({ type: 'sample', id: message.id, sample: s });
  } else if (message.type === 'stop') {
    void engine.stop().then(() => {
      rmSync(folder, { recursive: true, force: true });
      process.exit(0);
    });
  }
});

await engine.start();
send({ type: 'ready', port: engine.sipAddresses()[0].port });

/**
 * Nothing is kept per call. Rounds of calls of seven kinds go through a real engine over
 * loopback; heap snapshots of this process are taken idle before (A) and after each of three
 * batches (B, C, D). Object ids are stable within a process, so the objects allocated between A
 * and B that are still alive in D are what the first batch left behind: a Map entry, listener,
 * closure, timer or string kept by one kind of call shows up as a class with at least one
 * survivor per round (measured: 2 strings in all, over 56 calls), and again among what the
 * second batch (B to C) left in D, where a one-time initialisation does not. Optimized code and
 * the JIT's bookkeeping (feedback, shapes, dependent-code lists) grow once per function as calls
 * make it hot, not per call, and are left out: the soak's heap drift is that.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConferenceLifetimeControl,
  ConferencePartyMediaSettings,
  Engine,
  State,
  type UASCallChannel
} from '../../engine/index.js';
import { HeapSnapshot, keptObjects } from '../support/heap-snapshot.js';
import { RawUac } from '../support/raw-uac.js';
import { TonePhone } from '../support/tone-phone.js';
import { sleep, waitFor } from '../support/wait.js';

const folder = mkdtempSync(join(tmpdir(), 'uasmedia-heap-'));
const prompts = join(folder, 'prompts');
const recordings = join(folder, 'recordings');
mkdirSync(prompts);
mkdirSync(recordings);
copyFileSync(
  fileURLToPath(new URL('../fixtures/wav/tone-8000-s16.wav', import.meta.url)),
  join(prompts, 'prompt.wav')
);

/**
 * Node types that are V8's own bookkeeping: shapes ('object shape'), internal arrays ('hidden'),
 * backing stores ('native', counted with their ArrayBuffer objects), roots ('synthetic').
 */
const SKIPPED_TYPES = new Set(['code', 'object shape', 'hidden', 'native', 'synthetic']);

/**
 * Node builds its map of system error names the first time it formats a socket error, and keeps
 * it (`uvBinding -> errmap`, about 190 strings). A refused connection builds it now, before the
 * first snapshot, so that whichever batch would have met the first error is not charged with it.
 */
async function buildNodesErrorMap(): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => resolve());
    socket.on('connect', () => {
      socket.destroy();
      resolve();
    });
  });
}

let engine: Engine | undefined;
afterAll(async () => {
  await engine?.stop();
  rmSync(folder, { recursive: true, force: true });
});

/**
 * The engine's side, by the Request-URI's user: `room` joins a conference until the caller
 * leaves; `retrieve` joins it and is taken back out and hung up by the application; `play` hears
 * a prompt and `record` is recorded for half a second, each then hung up by the engine.
 */
async function serve(e: Engine, channel: UASCallChannel): Promise<void> {
  const kind = /^sip:([a-z]+)@/.exec(channel.requestUri ?? '')?.[1];
  try {
    if ((await channel.answer()) !== State.ANSWERED) return;
    if (kind === 'play') {
      await channel.playFile('prompt.wav');
    } else if (kind === 'record') {
      await channel.record('heap.wav', { maxSeconds: 0.5 });
      rmSync(join(recordings, 'heap.wav'), { force: true });
    } else {
      const media = new ConferencePartyMediaSettings({ exitOnDtmfDigit: '#' });
      media.onEntryMedia.textToSay('has joined');
      const state = await channel.transferToConferenceRoom(e.createChannel(), 'heap', {
        conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
        conferencePartyMediaSettings: media,
        secondsTimeout: 10
      });
      if (state === State.TRANSFERRED && kind === 'retrieve') {
        await sleep(200);
        if (channel.state === State.TRANSFERRED) await channel.retrieveTransferredCall();
      } else if (state === State.TRANSFERRED) await channel.waitForTransferredCallRetrieval();
    }
    await channel.hangUp();
  } catch {
    await channel.hangUp().catch(() => undefined);
  }
}

/**
 * One call of every kind at once: conference (caller hangs up), retrieved, played and recorded
 * (the engine hangs up), refused (403), vanished (RTP timeout) and never ACKed (timer H).
 * Returns the final statuses that are not what they should be (no `expect` here: vitest keeps
 * every assertion until the test ends, and with it the objects it was given).
 */
async function callsOfEveryKind(port: number): Promise<string[]> {
  const phones = await Promise.all(
    [0, 1, 2, 3, 4, 5].map(() => TonePhone.create({ toneHz: 440, displayName: 'heap' }))
  );
  const [room, retrieve, play, record, refused, vanished] = phones;
  const noAck = await new RawUac().open();
  const until = (phone: TonePhone): Promise<void> => waitFor(() => phone.ended, 20_000);
  const wrong: string[] = [];
  try {
    await Promise.all([
      room.call(`sip:room@127.0.0.1:${port}`).then(async () => {
        await sleep(300);
        await room.hangUp();
      }),
      retrieve.call(`sip:retrieve@127.0.0.1:${port}`).then(() => until(retrieve)),
      play.call(`sip:play@127.0.0.1:${port}`).then(() => until(play)),
      record.call(`sip:record@127.0.0.1:${port}`).then(() => until(record)),
      refused.call(`sip:refused@127.0.0.1:${port}`).then(
        () => wrong.push('refused call answered'),
        (error: { status?: number }) => error.status !== 403 && wrong.push(`refused call got ${error.status}`)
      ),
      vanished.call(`sip:room@127.0.0.1:${port}`).then(() => vanished.vanish()),
      noAck.invite(port, [], 40_000, false).then((final) => {
        if (final.status !== 200) wrong.push(`never-ACKed call got ${final.status}`);
      })
    ]);
  } finally {
    for (const phone of phones) await phone.close();
    await noAck.close();
  }
  return wrong;
}

describe('heap retention', () => {
  it('keeps no object per call: what a batch of calls allocated is gone once the engine is idle again', async () => {
    const e = (engine = new Engine({
      sip: {
        host: '127.0.0.1',
        port: 0,
        transports: ['udp'],
        // Transactions end 64·T1 = 2.6 s after their last message instead of 32 s.
        timers: { t1Ms: 40, t2Ms: 160, t4Ms: 200 }
      },
      rtp: { minPort: 47800, maxPort: 47999, inactivityTimeoutSeconds: 1 },
      files: { playFolders: [prompts], recordFolder: recordings },
      logLevel: 'error',
      inviteFilter: (request) =>
        /^sip:refused/.test(request.uri) ? { status: 403, reason: 'Forbidden' } : undefined
    }));
    e.on('call', (channel) => void serve(e, channel));
    await e.start();
    const port = e.sipAddresses()[0].port;
    const timersWhenIdle = e.resources().timers;
    const idle = async (): Promise<void> => {
      await waitFor(() => {
        const r = e.resources();
        return r.channels === 0 && r.rooms === 0 && r.rtpPortPairs === 0 && r.timers <= timersWhenIdle;
      }, 30_000).catch((error: unknown) => {
        // What stayed is what tells a leak from a slow host.
        const left = JSON.stringify({ ...e.resources(), timersWhenIdle });
        throw new Error(`engine not idle after a batch: ${left}`, { cause: error });
      });
    };
    // Written now, read at the end: reading one in between would put its own data in the next.
    const snapshot = (name: string): string => writeHeapSnapshot(join(folder, `${name}.heapsnapshot`));
    const wrong: string[] = [];
    const batch = async (rounds: number): Promise<void> => {
      for (let i = 0; i < rounds; i++) wrong.push(...(await callsOfEveryKind(port)));
      await idle();
    };

    // Warm-up: code loaded, the prompt cached, the worker started, Node's error map built.
    await buildNodesErrorMap();
    await batch(3);
    const fileA = snapshot('a');
    const rounds = 8;
    await batch(rounds);
    const fileB = snapshot('b');
    await batch(rounds);
    const fileC = snapshot('c');
    await batch(rounds);
    const fileD = snapshot('d');

    const [a, b, c, d] = [fileA, fileB, fileC, fileD].map((file) => new HeapSnapshot(file));
    const jit = d.ownedByCode();
    const ours = (nodes: number[]): number[] =>
      nodes.filter((i) => jit[i] === 0 && !SKIPPED_TYPES.has(d.typeName(i)));
    // What the first and the second batch left alive in D. Something made once and kept turns
    // up in one batch only; a leak, in both.
    const secondBatch = keptObjects(b, c, d);
    const perCall: Array<{ count: number; text: string }> = [];
    for (const [cls, nodes] of keptObjects(a, b, d)) {
      const kept = ours(nodes);
      const keptBySecond = ours(secondBatch.get(cls) ?? []).length;
      // A kind of call that keeps one object keeps `rounds` of them in each batch.
      if (kept.length >= rounds && keptBySecond >= rounds) {
        const examples = [kept[0], kept[kept.length >> 1]].map((i) => d.retainerPath(i));
        perCall.push({
          count: kept.length,
          text: `${d.classNames[cls]}: ${kept.length} kept by the first batch and ${keptBySecond} by the second, e.g. ${examples.join(' | ')}`
        });
      }
    }
    expect(wrong).toEqual([]);
    // What a leak's owner keeps the most of comes first, with retainer paths that name the owner.
    expect(
      perCall
        .sort((x, y) => y.count - x.count)
        .slice(0, 5)
        .map((x) => x.text)
    ).toEqual([]);
  }, 180_000);
});

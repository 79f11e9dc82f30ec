/**
 * Nothing is kept per call. Calls of several kinds go through a real engine over loopback; heap
 * snapshots of this process are taken idle before (A), idle after a first batch (B) and idle after
 * a second batch (C). Object ids are stable within a process, so the objects allocated between A
 * and B that are still alive in C are what a batch of calls left behind: a Map entry, listener,
 * closure, timer or string kept per call shows up as a class with at least one survivor per call.
 * Optimized code and the JIT's bookkeeping (feedback, shapes, dependent-code lists) grow once per
 * function as calls make it hot, not per call, and are left out: the soak's heap drift is that.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
import { TonePhone } from '../support/tone-phone.js';
import { sleep, waitFor } from '../support/wait.js';

const folder = mkdtempSync(join(tmpdir(), 'uasmedia-heap-'));
const prompts = join(folder, 'prompts');
mkdirSync(prompts);
copyFileSync(
  fileURLToPath(new URL('../fixtures/wav/tone-8000-s16.wav', import.meta.url)),
  join(prompts, 'prompt.wav')
);

/**
 * Node types that are V8's own bookkeeping: shapes ('object shape'), internal arrays ('hidden'),
 * backing stores ('native', counted with their ArrayBuffer objects), roots ('synthetic').
 */
const SKIPPED_TYPES = new Set(['code', 'object shape', 'hidden', 'native', 'synthetic']);

let engine: Engine | undefined;
afterAll(async () => {
  await engine?.stop();
  rmSync(folder, { recursive: true, force: true });
});

/** The engine's side: `room` calls join a conference until the caller leaves; `play` calls hear a prompt and are hung up. */
async function serve(e: Engine, channel: UASCallChannel): Promise<void> {
  try {
    if ((await channel.answer()) !== State.ANSWERED) return;
    if (/^sip:play/.test(channel.requestUri ?? '')) {
      await channel.playFile('prompt.wav');
      await channel.hangUp();
      return;
    }
    const media = new ConferencePartyMediaSettings({ exitOnDtmfDigit: '#' });
    media.onEntryMedia.textToSay('has joined');
    const state = await channel.transferToConferenceRoom(e.createChannel(), 'heap', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
      conferencePartyMediaSettings: media,
      secondsTimeout: 10
    });
    if (state === State.TRANSFERRED) await channel.waitForTransferredCallRetrieval();
    await channel.hangUp();
  } catch {
    await channel.hangUp().catch(() => undefined);
  }
}

/**
 * One call of each kind at once: conference (caller hangs up), played (engine hangs up), refused
 * (403), vanished (RTP timeout). Returns the refused call's status (no `expect` here: vitest keeps
 * every assertion until the test ends, and with it the objects it was given).
 */
async function callsOfEveryKind(port: number): Promise<number> {
  const phones = await Promise.all(
    [0, 1, 2, 3].map(() => TonePhone.create({ toneHz: 440, displayName: 'heap' }))
  );
  const [room, play, refused, vanished] = phones;
  try {
    const [, , status] = await Promise.all([
      room.call(`sip:room@127.0.0.1:${port}`).then(async () => {
        await sleep(300);
        await room.hangUp();
      }),
      play.call(`sip:play@127.0.0.1:${port}`).then(() => waitFor(() => play.ended, 20_000)),
      refused.call(`sip:refused@127.0.0.1:${port}`).then(
        () => 200,
        (error: { status?: number }) => error.status ?? 0
      ),
      vanished.call(`sip:room@127.0.0.1:${port}`).then(() => vanished.vanish())
    ]);
    return status;
  } finally {
    for (const phone of phones) await phone.close();
  }
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
      files: { playFolders: [prompts] },
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
      }, 30_000);
    };
    // Written now, read at the end: reading one in between would put its own data in the next.
    const snapshot = (name: string): string => writeHeapSnapshot(join(folder, `${name}.heapsnapshot`));
    const refusals = new Set<number>();
    const batch = async (rounds: number): Promise<void> => {
      for (let i = 0; i < rounds; i++) refusals.add(await callsOfEveryKind(port));
      await idle();
    };

    // Warm-up: code loaded, the prompt cached, the worker started.
    await batch(3);
    const fileA = snapshot('a');
    const rounds = 8;
    await batch(rounds);
    const fileB = snapshot('b');
    await batch(rounds);
    const fileC = snapshot('c');

    const [a, b, c] = [fileA, fileB, fileC].map((file) => new HeapSnapshot(file));
    const calls = rounds * 4;
    const jit = c.ownedByCode();
    const perCall: Array<{ count: number; text: string }> = [];
    for (const [cls, nodes] of keptObjects(a, b, c)) {
      const kept = nodes.filter((i) => jit[i] === 0 && !SKIPPED_TYPES.has(c.typeName(i)));
      if (kept.length >= calls / 2) {
        const examples = [kept[0], kept[kept.length >> 1]].map((i) => c.retainerPath(i));
        perCall.push({
          count: kept.length,
          text: `${c.classNames[cls]}: ${kept.length} kept, e.g. ${examples.join(' | ')}`
        });
      }
    }
    expect(refusals).toEqual(new Set([403]));
    // What a leak's owner keeps the most of comes first, with retainer paths that name the owner.
    expect(
      perCall
        .sort((x, y) => y.count - x.count)
        .slice(0, 5)
        .map((x) => x.text)
    ).toEqual([]);
  }, 180_000);
});

/**
 * A caller that hangs up while its prompt is still waiting for the speech worker: its playText
 * fails at once with HangupError and the synthesis leaves the queue (test/tts/abandoned-prompts
 * shows it is never made). Before, the hang-up was only noticed once the speech was made, after
 * everything queued ahead of it: one source calling ever new rooms and hanging up at once held
 * every other caller's prompts up for a minute and more.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HangupError, State, type Engine, type UASCallChannel } from '../../engine/index.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { TEXT_CHARS_MAX } from '../../tts/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { rmsDbfs } from '../support/tone-analysis.js';
import { waitFor } from '../support/wait.js';

/** A text that holds the one speech worker for seconds, another for each test (none is cached). */
let texts = 0;
const digits = (): string => '0123456789'.repeat(TEXT_CHARS_MAX / 10 - 1) + String(++texts).padStart(10, '0');

let engine: Engine;
let port: number;
let channels: UASCallChannel[];
const phones: TonePhone[] = [];

// An engine of its own for each test: stopping it ends the synthesis a test left in the worker,
// which on a busy host (the worker runs at low priority) the next test would wait behind.
beforeEach(async () => {
  ({
    engine,
    sipPort: port,
    incoming: channels
  } = await startAnsweringEngine(
    { minPort: 38400, maxPort: 38499 },
    { tts: { workers: 1, synthesisTimeoutMs: 600_000 } }
  ));
});

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await engine?.stop();
});

async function answeredCall(user: string): Promise<{ phone: TonePhone; channel: UASCallChannel }> {
  const phone = await TonePhone.create({ toneHz: null, user });
  phones.push(phone);
  const before = channels.length;
  await phone.call(`sip:room@127.0.0.1:${port}`);
  await waitFor(() => channels[before]?.state === State.ANSWERED);
  return { phone, channel: channels[before] };
}

const heardSpeech = (phone: TonePhone): boolean => {
  const pcm = phone.receivedPcm();
  for (let i = 0; i + 160 <= pcm.length; i += 160) if (rmsDbfs(pcm.subarray(i, i + 160)) > -45) return true;
  return false;
};

describe('speech for a call that ended', () => {
  it('takes thirty prompts queued on one call without a listener-leak warning, and drops them all at its hang-up', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const first = await answeredCall('busy');
      const long = first.channel.playText(digits()).catch((e: unknown) => e);
      const queued = await answeredCall('queued');
      const prompts = Array.from({ length: 30 }, (_, i) =>
        queued.channel.playText(`prompt number ${i}`).catch((e: unknown) => e)
      );
      await queued.channel.hangUp();
      for (const result of await Promise.all(prompts)) expect(result).toBeInstanceOf(HangupError);
      await first.channel.hangUp();
      await long;
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, 60_000);

  it('is not waited for: playText fails with HangupError before the speech queued ahead is made', async () => {
    const first = await answeredCall('first');
    const long = first.channel.playText(digits()).catch((e: unknown) => e);
    await waitFor(() => engine.resources().speechPending === 1);
    const second = await answeredCall('second');
    const welcome = second.channel.playText('welcome to a room nobody will hear').catch((e: unknown) => e);
    await second.channel.hangUp();
    expect(await welcome).toBeInstanceOf(HangupError);
    // Only the digits are pending: in the worker's hands, the welcome out of the queue.
    expect(engine.resources().speechPending).toBe(1);
    expect(heardSpeech(first.phone)).toBe(false);
    await first.channel.hangUp();
    expect(await long).toBeInstanceOf(HangupError);
  }, 60_000);
});

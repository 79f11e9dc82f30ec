/**
 * A channel's own media outside conferences, over real SIP and RTP: playing files and speech to
 * the caller, recording what the caller says, DTMF between two channels, outbound calls and their
 * causes, and the typed errors of calls made in the wrong state.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wavefile from 'wavefile';
import {
  Engine,
  State,
  Cause,
  HangupError,
  InvalidStateError,
  InvalidArgumentError,
  type UASCallChannel
} from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { rmsDbfs, toneLevelDb } from '../support/tone-analysis.js';
import { sleep, waitFor } from '../support/wait.js';

const promptFolder = fileURLToPath(new URL('../fixtures/wav/', import.meta.url));
let engine: Engine;
let busyEngine: Engine;
let port: number;
let dir: string;
const incoming: UASCallChannel[] = [];
const phones: TonePhone[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uasmedia-media-'));
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 38000, maxPort: 38999 },
    promptFolder,
    files: { recordFolder: dir }
  });
  engine.on('call', (channel) => {
    incoming.push(channel);
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
  busyEngine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 38500, maxPort: 38599 },
    inviteFilter: () => ({ status: 486, reason: 'Busy Here' })
  });
  await busyEngine.start();
});

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await Promise.all(incoming.splice(0).map((c) => c.hangUp()));
});

afterAll(async () => {
  await engine?.stop();
  await busyEngine?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function answeredCall(toneHz: number | null): Promise<{ phone: TonePhone; channel: UASCallChannel }> {
  const phone = await TonePhone.create({ toneHz });
  phones.push(phone);
  const before = incoming.length;
  const calling = phone.call(`sip:media@127.0.0.1:${port}`);
  await waitFor(() => incoming.length > before);
  const channel = incoming[before];
  expect(channel.state).toBe(State.CALL_INCOMING);
  expect(await channel.ring()).toBe(State.RING_INCOMING);
  expect(await channel.answer()).toBe(State.ANSWERED);
  await calling;
  return { phone, channel };
}

describe('UASCallChannel media', () => {
  it('plays a WAV file to the caller and resolves when it has been played', async () => {
    const { phone, channel } = await answeredCall(null);
    await sleep(200);
    phone.clearReceived();
    // Counted in frames the engine ran, not wall time: after a stall on a loaded host the frame
    // clock runs the missed frames back to back, and wall time then runs short of what was played.
    const started = engine.clockStats().ticks;
    await channel.playFile('tone-44100-s16.wav'); // 0.25 s of 440 Hz, resampled to 8 kHz: 12.5 frames
    const elapsedMs = (engine.clockStats().ticks - started) * 20;
    await sleep(150);
    const heard = phone.receivedPcm();
    expect(elapsedMs).toBeGreaterThanOrEqual(240);
    expect(toneLevelDb(heard, 440, 8000)).toBeGreaterThan(-30);
  });

  it('says text to the caller', async () => {
    const { phone, channel } = await answeredCall(null);
    phone.clearReceived();
    await channel.playText('hello from uasmedia');
    await sleep(100);
    expect(rmsDbfs(phone.receivedPcm())).toBeGreaterThan(-40);
  });

  it("aborting one prompt's signal stops that prompt only: the others queued on the channel still play", async () => {
    const { channel } = await answeredCall(null);
    await channel.playFile('tone-44100-s16.wav'); // read once: the three below queue at once
    const aborted = new AbortController();
    const first = channel.playFile('tone-44100-s16.wav');
    const second = channel.playFile('tone-44100-s16.wav', { signal: aborted.signal });
    const third = channel.playFile('tone-44100-s16.wav');
    // The first done: the second is playing and the third waits behind it.
    await first.then(() => aborted.abort());
    await expect(second).rejects.toMatchObject({ code: 'ERR_PROMPT_STOPPED' });
    await expect(third).resolves.toBeUndefined();
    expect(channel.state).toBe(State.ANSWERED);
  });

  it('stopPlaying() stops a prompt whose speech is still being synthesised: a barge-in before it began', async () => {
    const { phone, channel } = await answeredCall(null);
    phone.clearReceived();
    // Synthesis takes well over a turn: the caller's digit (here, at once) comes before the speech is ready.
    const menu = channel.playText('For sales press one. For support press two. For billing press three.');
    channel.stopPlaying();
    await expect(menu).rejects.toMatchObject({ code: 'ERR_PROMPT_STOPPED' });
    // It had played in full once synthesised, after the stop, and resolved. One asked for afterwards plays.
    await expect(channel.playFile('tone-44100-s16.wav')).resolves.toBeUndefined();
    await phone.media(100);
    expect(toneLevelDb(phone.receivedPcm(), 440, 8000)).toBeGreaterThan(-30);
  });

  it('a signal aborted before the prompt was asked for stops it with the same error, and the call goes on', async () => {
    const { channel } = await answeredCall(null);
    await expect(
      channel.playFile('tone-44100-s16.wav', { signal: AbortSignal.abort() })
    ).rejects.toMatchObject({
      code: 'ERR_PROMPT_STOPPED'
    });
    await expect(channel.playText('never heard', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_PROMPT_STOPPED'
    });
    await expect(channel.playFile('tone-44100-s16.wav')).resolves.toBeUndefined();
    expect(channel.state).toBe(State.ANSWERED);
  });

  it('plays prompts in the order they were asked for, whichever is ready first', async () => {
    const { channel } = await answeredCall(null);
    await channel.playFile('tone-44100-s16.wav'); // cached: ready at once from now on
    const order: string[] = [];
    // Text nobody asked for before: synthesised first, so ready well after the cached file.
    const text = channel
      .playText('Prompts play in the order they were asked for.')
      .then(() => order.push('text'));
    const file = channel.playFile('tone-44100-s16.wav').then(() => order.push('file'));
    await Promise.all([text, file]);
    expect(order).toEqual(['text', 'file']);
  });

  it('refuses a prompt file outside the prompt folder with a typed error, and the call goes on', async () => {
    const { channel } = await answeredCall(null);
    await expect(channel.playFile('../../../etc/passwd')).rejects.toMatchObject({
      code: 'ERR_FILE_ACCESS',
      reason: 'OUTSIDE_FOLDER'
    });
    await expect(channel.playFile('missing.wav')).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
    expect(channel.state).toBe(State.ANSWERED);
  });

  it('records what the caller says into a WAV file', async () => {
    const { channel } = await answeredCall(620);
    await sleep(300);
    const path = join(dir, 'rec.wav');
    await channel.record(path, { maxSeconds: 1 });
    const wav = new wavefile.WaveFile(await readFile(path));
    const samples = Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array);
    expect((wav.fmt as { sampleRate: number }).sampleRate).toBe(8000);
    expect(samples.length).toBe(8000);
    expect(toneLevelDb(samples, 620, 8000)).toBeGreaterThan(-25);
    expect(toneLevelDb(samples, 440, 8000)).toBeLessThan(-50);
  });

  it('calls out, sends DTMF the other channel collects, and both sides end NORMAL', async () => {
    const caller = engine.createChannel();
    const placing = caller.call(`sip:loop@127.0.0.1:${port}`);
    await waitFor(() => incoming.length > 0 && incoming[incoming.length - 1].state === State.CALL_INCOMING);
    const callee = incoming[incoming.length - 1];
    await callee.answer();
    expect(await placing).toBe(State.ANSWERED);
    const digits = callee.getDigits({ count: 4, secondsTimeout: 5 });
    await caller.sendDtmf('12#*');
    expect(await digits).toBe('12#*');
    await caller.hangUp();
    await waitFor(() => callee.state === State.IDLE);
    expect(callee.cause()).toBe(Cause.NORMAL);
    expect(caller.cause()).toBe(Cause.NORMAL);
  });

  it('ends a getDigits under way with HangupError when the call ends, and the caller hangs up mid-collection', async () => {
    const { phone, channel } = await answeredCall(null);
    const digits = expect(channel.getDigits({ count: 4 })).rejects.toBeInstanceOf(HangupError);
    await phone.hangUp();
    await digits;
    expect(channel.state).toBe(State.IDLE);
  });

  it('ends a sendDtmf under way with HangupError when the caller hangs up between its digits', async () => {
    const { phone, channel } = await answeredCall(null);
    // Its rejection is awaited from the start: it may come while the hang-up is being awaited.
    const sending = expect(
      channel.sendDtmf('123456789', { durationMs: 100, gapMs: 100 })
    ).rejects.toBeInstanceOf(HangupError);
    await phone.hangUp();
    await sending;
    expect(channel.state).toBe(State.IDLE);
  });

  it('hangUp while an outgoing call is ringing cancels it: the callee sees it end, and the caller stays IDLE', async () => {
    const caller = engine.createChannel();
    const placing = caller.call(`sip:loop@127.0.0.1:${port}`);
    await waitFor(() => incoming.length > 0 && incoming[incoming.length - 1].state === State.CALL_INCOMING);
    const callee = incoming[incoming.length - 1];
    expect(await caller.hangUp()).toBe(State.IDLE);
    expect(await placing).toBe(State.IDLE);
    await waitFor(() => callee.state === State.IDLE); // the CANCEL reached it
    await expect(callee.answer()).rejects.toBeInstanceOf(HangupError);
    expect(caller.state).toBe(State.IDLE);
  });

  it("call() again once the hang-up of a ringing call has resolved: the second call is the channel's, and hangUp cancels it", async () => {
    const caller = engine.createChannel();
    const first = caller.call(`sip:loop@127.0.0.1:${port}`);
    await waitFor(() => incoming.length > 0 && incoming[incoming.length - 1].state === State.CALL_INCOMING);
    const firstCallee = incoming[incoming.length - 1];
    // hangUp() resolves once the first INVITE has ended (the race with a call() made before then is
    // hangup-while-ringing.test.ts's): the first call() settles IDLE and the second is the channel's.
    expect(await caller.hangUp()).toBe(State.IDLE);
    const second = caller.call(`sip:loop@127.0.0.1:${port}`);
    expect(await first).toBe(State.IDLE);
    expect([State.CALL_OUTGOING, State.RING_OUTGOING]).toContain(caller.state);
    await waitFor(() => incoming.length > 0 && incoming[incoming.length - 1] !== firstCallee);
    const secondCallee = incoming[incoming.length - 1];
    // The second call is the channel's: hangUp cancels it, and the callee cannot answer it any more.
    expect(await caller.hangUp()).toBe(State.IDLE);
    expect(await second).toBe(State.IDLE);
    await waitFor(() => secondCallee.state === State.IDLE);
    await expect(secondCallee.answer()).rejects.toBeInstanceOf(HangupError);
    expect(caller.state).toBe(State.IDLE);
    expect(firstCallee.state).toBe(State.IDLE);
  });

  it('reports BUSY when the far end answers 486', async () => {
    const channel = engine.createChannel();
    const busyPort = busyEngine.sipAddresses()[0].port;
    expect(await channel.call(`sip:someone@127.0.0.1:${busyPort}`)).toBe(State.IDLE);
    expect(channel.cause()).toBe(Cause.BUSY);
  });

  it('throws typed errors for calls made in the wrong state, naming the state', async () => {
    const idle = engine.createChannel();
    await expect(idle.answer()).rejects.toBeInstanceOf(HangupError);
    await expect(idle.playText('x')).rejects.toBeInstanceOf(HangupError);
    await expect(idle.call('not a uri')).rejects.toBeInstanceOf(InvalidArgumentError);
    // A scheme alone, or no host, is no target either: it used to be dialled and come back IDLE.
    for (const target of ['sip:', 'sip:@@@;;;', 'sips:'])
      await expect(idle.call(target)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(idle.state).toBe(State.IDLE);
    const { channel } = await answeredCall(null);
    await expect(channel.ring()).rejects.toThrow(
      /channel ch-[0-9a-f]{12}-\d+ is ANSWERED, expected CALL_INCOMING/
    );
    await expect(channel.ring()).rejects.toBeInstanceOf(InvalidStateError);
    await expect(channel.call(`sip:x@127.0.0.1:${port}`)).rejects.toBeInstanceOf(InvalidStateError);
    await expect(channel.sendDtmf('x')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(channel.sendDtmf('')).rejects.toBeInstanceOf(TypeError);
    for (const durationMs of [Infinity, NaN, 0, 10, 60_000])
      await expect(channel.sendDtmf('1', { durationMs })).rejects.toThrow(/durationMs must be a number/);
    await expect(channel.sendDtmf('1', { gapMs: -1 })).rejects.toBeInstanceOf(RangeError);
  });

  it('refuses an argument of the wrong type with TypeError, as the README has it', async () => {
    const wrong = 42 as unknown as string;
    expect(() => engine.conference(wrong)).toThrow(TypeError);
    const idle = engine.createChannel();
    await expect(idle.call(wrong)).rejects.toBeInstanceOf(TypeError);
    await expect(idle.call('sip:x y@127.0.0.1')).rejects.toBeInstanceOf(InvalidArgumentError);
    const { channel } = await answeredCall(null);
    await expect(channel.sendDtmf('1', { durationMs: '100' as unknown as number })).rejects.toBeInstanceOf(
      TypeError
    );
    await expect(channel.sendDtmf('1', { gapMs: '60' as unknown as number })).rejects.toBeInstanceOf(
      TypeError
    );
    await expect(channel.record('x.wav', { maxSeconds: '5' as unknown as number })).rejects.toBeInstanceOf(
      TypeError
    );
    expect(() => channel.on('dtmf', 42 as never)).toThrow(TypeError);
  });

  it('returns the channel to IDLE with NORMAL when the caller hangs up', async () => {
    const { phone, channel } = await answeredCall(440);
    await phone.hangUp();
    await waitFor(() => channel.state === State.IDLE);
    expect(channel.cause()).toBe(Cause.NORMAL);
    expect(engine.activeChannels()).not.toContain(channel);
  });
});

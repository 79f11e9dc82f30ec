/**
 * `EngineOptions.inbandDtmf` over real SIP and RTP: 'auto' listens for tones only on calls that
 * negotiated no RFC 4733 telephone-event, and follows a re-INVITE that drops it; 'never' does not
 * listen at all; RFC 4733 and SIP INFO digits arrive either way. Every "nothing was reported" is
 * checked against a call that pressed the same tone at the same time into the same frame loop and
 * was heard, so a slow host cannot make a missing digit look right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type InbandDtmfMode, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

interface Node {
  engine: Engine;
  port: number;
  channels: Map<string, UASCallChannel>;
}

const nodes: Node[] = [];
let auto: Node;
let never: Node;
const phones: TonePhone[] = [];

async function startEngine(inbandDtmf: InbandDtmfMode, minPort: number): Promise<Node> {
  const engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort, maxPort: minPort + 99 },
    inbandDtmf
  });
  const channels = new Map<string, UASCallChannel>();
  engine.on('call', async (channel) => {
    channels.set(/sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '', channel);
    await channel.answer();
  });
  await engine.start();
  const node = { engine, port: engine.sipAddresses()[0].port, channels };
  nodes.push(node);
  return node;
}

beforeAll(async () => {
  auto = await startEngine('auto', 39700);
  never = await startEngine('never', 39800);
});

afterAll(async () => {
  for (const phone of phones) await phone.close();
  for (const node of nodes) await node.engine.stop();
});

interface Call {
  phone: TonePhone;
  /** What the call's channel reported, as `digit:source`. */
  seen: string[];
}

/** A phone in a call with `node`, offering telephone-event or not. */
async function call(node: Node, user: string, telephoneEvent: boolean): Promise<Call> {
  const phone = await TonePhone.create({ toneHz: null, user });
  phones.push(phone);
  if (!telephoneEvent) phone.telephoneEventPt = null;
  await phone.call(`sip:digits@127.0.0.1:${node.port}`);
  await waitFor(() => node.channels.get(user)?.state === State.ANSWERED, 10_000);
  const seen: string[] = [];
  node.channels.get(user)!.on('dtmf', ({ digit, source }) => seen.push(`${digit}:${source}`));
  await phone.media(200);
  return { phone, seen };
}

/**
 * Presses `digit` in-band on both calls at once. Once `heard` has reported it, `ignored` (in the
 * same frame loop) has had the same tone and 300 ms more of media, and must have reported nothing.
 */
async function pressOnBoth(digit: string, heard: Call, ignored: Call): Promise<void> {
  const before = [...ignored.seen];
  await Promise.all([heard.phone.inbandDigit(digit, 160), ignored.phone.inbandDigit(digit, 160)]);
  await waitFor(() => heard.seen.includes(`${digit}:inband`), 10_000);
  await Promise.all([heard.phone.media(300), ignored.phone.media(300)]);
  expect(ignored.seen).toEqual(before);
}

describe("inbandDtmf 'auto'", () => {
  it('ignores tones on a call with telephone-event, hears them on one without, and follows a re-INVITE that drops it', async () => {
    const events = await call(auto, 'withevents', true);
    const plain = await call(auto, 'plain', false);

    await pressOnBoth('5', plain, events);
    expect(plain.seen).toEqual(['5:inband']);

    await events.phone.rfc4733Digit('6', 100);
    await waitFor(() => events.seen.length === 1, 10_000);
    expect(events.seen).toEqual(['6:rfc4733']);

    events.phone.telephoneEventPt = null;
    await events.phone.reinvite();
    await events.phone.media(100);
    await events.phone.inbandDigit('7', 160);
    await waitFor(() => events.seen.length === 2, 10_000);
    expect(events.seen).toEqual(['6:rfc4733', '7:inband']);
  });
});

describe("inbandDtmf 'never'", () => {
  it('ignores tones even on a call without telephone-event, and still takes SIP INFO', async () => {
    const deaf = await call(never, 'deaf', false);
    const control = await call(auto, 'control', false);

    await pressOnBoth('3', control, deaf);
    expect(deaf.seen).toEqual([]);

    await deaf.phone.infoDigit('4');
    await waitFor(() => deaf.seen.length === 1, 10_000);
    expect(deaf.seen).toEqual(['4:info']);
  });
});

describe('inbandDtmf option', () => {
  it('rejects a mode it does not know', () => {
    expect(() => new Engine({ inbandDtmf: 'sometimes' as InbandDtmfMode })).toThrow(
      /inbandDtmf must be 'always', 'auto' or 'never', got sometimes/
    );
  });
});

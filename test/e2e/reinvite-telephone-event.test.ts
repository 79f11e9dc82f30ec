/**
 * A re-INVITE that moves RFC 4733 telephone-events to another payload type (RFC 4733 §7.1,
 * RFC 3264 §8) is applied: after it, digits arrive on the new payload type and packets on the old
 * one are not taken for events. Real SIP and RTP over loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { sleep, waitFor } from '../support/wait.js';

let engine: Engine;
let port: number;
const channels = new Map<string, UASCallChannel>();

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 38000, maxPort: 38499 }
  });
  engine.on('call', async (channel) => {
    const user = /sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '';
    channels.set(user, channel);
    await channel.answer();
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await engine?.stop();
});

describe('re-INVITE changing the telephone-event payload type', () => {
  it('takes digits on the new payload type and none on the old one', async () => {
    const phone = await TonePhone.create({ toneHz: null, user: 'ptchange' });
    try {
      await phone.call(`sip:digits@127.0.0.1:${port}`);
      await waitFor(() => channels.get('ptchange')?.state === State.ANSWERED, 10_000);
      const channel = channels.get('ptchange')!;
      const seen: string[] = [];
      channel.on('dtmf', ({ digit, source }) => seen.push(`${digit}:${source}`));

      await phone.rfc4733Digit('1', 100);
      await waitFor(() => seen.length === 1, 10_000);

      phone.telephoneEventPt = 96;
      await phone.reinvite();
      expect(channel.state).toBe(State.ANSWERED);
      await phone.rfc4733Digit('2', 100);
      await waitFor(() => seen.length === 2, 10_000);

      // Back on the old payload type without renegotiating: those packets are not events any more.
      phone.telephoneEventPt = 101;
      await phone.rfc4733Digit('3', 100);
      await sleep(500);
      expect(seen).toEqual(['1:rfc4733', '2:rfc4733']);
    } finally {
      await phone.close();
    }
  });
});

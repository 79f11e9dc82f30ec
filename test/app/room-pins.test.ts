/**
 * Meet-me rooms with a PIN, over real SIP and RTP: the right PIN keyed in (SIP INFO digits) lets
 * the caller into the room; three wrong tries end the call without entering it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../engine/index.js';
import { meetMeInviteFilter, serveMeetMe } from '../../engine/app/meet-me.js';
import { parseRoomPins } from '../../engine/app/room-pins.js';
import { TonePhone } from '../support/tone-phone.js';
import { keyIn, promptEnded } from '../support/prompt-caller.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let port: number;
const phones: TonePhone[] = [];
const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: rtpBase, maxPort: rtpBase + 99 },
    inviteFilter: meetMeInviteFilter
  });
  serveMeetMe(engine, { roomPins: parseRoomPins('vault=4711') });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await Promise.all(phones.map((p) => p.close()));
  await engine?.stop();
});

describe('meet-me room PINs', () => {
  it('lets a caller who keys in the right PIN into the room', async () => {
    const caller = await TonePhone.create({ toneHz: null, user: 'pinner' });
    phones.push(caller);
    await caller.call(`sip:vault@127.0.0.1:${port}`);
    // "Welcome to conference vault." "Please enter the conference PIN, then press hash."
    // (digits keyed while the second prompt still plays count too)
    await promptEnded(caller);
    expect(engine.rooms.has('vault')).toBe(false);
    await keyIn(caller, '4711#');
    await waitFor(() => engine.rooms.get('vault')?.size === 1, 15000);
    await caller.hangUp();
    await waitFor(() => !engine.rooms.has('vault'), 10000);
  }, 60_000);

  it('ends the call after three wrong PINs, never entering the room', async () => {
    const caller = await TonePhone.create({ toneHz: null, user: 'guesser' });
    phones.push(caller);
    await caller.call(`sip:vault@127.0.0.1:${port}`);
    for (let attempt = 0; attempt < 3; attempt++) {
      await promptEnded(caller); // the greeting and PIN prompt, then "that PIN is not right"
      await keyIn(caller, '0000#');
    }
    await waitFor(() => caller.ended, 30000);
    expect(engine.rooms.has('vault')).toBe(false);
  }, 90_000);
});

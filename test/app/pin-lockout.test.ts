/**
 * Wrong conference PINs are counted per room across calls: past the limit the room takes no PIN
 * for a while, so many calls at once cannot guess a 4-digit PIN in minutes. On the wire with a
 * limit of 2, then the lock's own clock in a unit.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine } from '../../engine/index.js';
import { meetMeInviteFilter, serveMeetMe } from '../../engine/app/meet-me.js';
import { parseRoomPins, PinLockout, PIN_LOCKOUT } from '../../engine/app/room-pins.js';
import { TonePhone } from '../support/tone-phone.js';
import { keyIn, promptEnded } from '../support/prompt-caller.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let port: number;
const phones: TonePhone[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 55200, maxPort: 55299 },
    inviteFilter: meetMeInviteFilter,
    logLevel: 'silent'
  });
  serveMeetMe(engine, {
    roomPins: parseRoomPins('vault=4711,safe=4711'),
    pinLockout: new PinLockout({ wrongTries: 2, windowMs: 600_000, lockMs: 600_000 })
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await Promise.all(phones.map((p) => p.close()));
  await engine?.stop();
});

describe('meet-me PIN lockout', () => {
  it('locks the room after the limit of wrong PINs: the next caller is turned away before a PIN', async () => {
    const guesser = await TonePhone.create({ toneHz: null, user: 'guesser' });
    phones.push(guesser);
    await guesser.call(`sip:vault@127.0.0.1:${port}`);
    await promptEnded(guesser);
    await keyIn(guesser, '0000#');
    await promptEnded(guesser); // "That PIN is not right."
    await keyIn(guesser, '0001#');
    // The second wrong PIN locks the room: the call ends there, not after a third try.
    await waitFor(() => guesser.ended, 30000);

    const member = await TonePhone.create({ toneHz: null, user: 'member' });
    phones.push(member);
    await member.call(`sip:vault@127.0.0.1:${port}`);
    // "Welcome", then "not taking PINs now", and the call ends with no chance to key one in.
    await waitFor(() => member.ended, 30000);
    expect(engine.rooms.has('vault')).toBe(false);
  }, 90_000);

  it('gives a caller already at the prompt no more tries once the room locks, the right PIN included', async () => {
    const waiting = await TonePhone.create({ toneHz: null, user: 'waiting' });
    const guesser = await TonePhone.create({ toneHz: null, user: 'guesser2' });
    phones.push(waiting, guesser);
    await Promise.all([
      waiting.call(`sip:safe@127.0.0.1:${port}`),
      guesser.call(`sip:safe@127.0.0.1:${port}`)
    ]);
    await Promise.all([promptEnded(waiting), promptEnded(guesser)]);
    await keyIn(guesser, '0000#');
    await promptEnded(guesser);
    await keyIn(guesser, '0001#');
    await waitFor(() => guesser.ended, 30000);
    // The call held open at the prompt since before the lock keys the right PIN: turned away.
    await keyIn(waiting, '4711#');
    await waitFor(() => waiting.ended, 30000);
    expect(engine.rooms.has('safe')).toBe(false);
  }, 90_000);
});

describe('PinLockout', () => {
  it('counts wrong PINs per room in a sliding window and unlocks when the lock lapses', () => {
    let now = 0;
    const lockout = new PinLockout({ wrongTries: 3, windowMs: 1000, lockMs: 5000 }, () => now);
    expect(lockout.wrong('a')).toBe(false);
    expect(lockout.wrong('a')).toBe(false);
    expect(lockout.wrong('b')).toBe(false); // another room counts apart
    now = 1500; // the first two left the window
    expect(lockout.wrong('a')).toBe(false);
    expect(lockout.wrong('a')).toBe(false);
    expect(lockout.locked('a')).toBe(false);
    expect(lockout.wrong('a')).toBe(true);
    expect(lockout.locked('a')).toBe(true);
    expect(lockout.locked('b')).toBe(false);
    now = 6499;
    expect(lockout.locked('a')).toBe(true);
    now = 6500;
    expect(lockout.locked('a')).toBe(false);
    expect(lockout.wrong('a')).toBe(false); // counting starts afresh
    expect(PIN_LOCKOUT).toEqual({ wrongTries: 30, windowMs: 600_000, lockMs: 600_000 });
  });
});

/**
 * Per-room PINs of the meet-me example, as a conference bridge asks for them: after the greeting
 * the caller hears "please enter the conference PIN, then press hash" and keys it in (in-band,
 * RFC 4733 or SIP INFO). Three wrong tries and the call ends. Read from
 * `UASMEDIA_ROOM_PINS="room42=1234,sales=9999"`.
 */
import { FailureLockout } from '../../sip/index.js';
import { InvalidArgumentError } from '../errors.js';
import type { UASCallChannel } from '../channel/uas-call-channel.js';

export const PIN_ATTEMPTS = 3;

/** How many wrong PINs a room takes in `windowMs` before it takes none for `lockMs`. */
export interface PinLockoutLimits {
  wrongTries: number;
  windowMs: number;
  lockMs: number;
}

/** 30 wrong tries in 10 minutes lock a room's PIN entry for 10: a 4-digit PIN then holds for days. */
export const PIN_LOCKOUT: PinLockoutLimits = { wrongTries: 30, windowMs: 10 * 60_000, lockMs: 10 * 60_000 };

/**
 * Wrong PINs per room, across calls and sources: three tries a call alone let 50 calls at once
 * guess a 4-digit PIN in about 15 minutes. A locked room turns every caller away (the one who
 * knows the PIN too, as a bank card does) until the lock lapses. Only rooms with a PIN are kept.
 * The counting is the SIP stack's, which locks digest answers per source the same way.
 */
export class PinLockout extends FailureLockout {
  constructor(limits: PinLockoutLimits = PIN_LOCKOUT, now: () => number = () => performance.now()) {
    super({ failures: limits.wrongTries, windowMs: limits.windowMs, lockMs: limits.lockMs }, now);
  }

  /** Counts a wrong PIN for `room`; true when it locked the room. */
  wrong(room: string): boolean {
    return this.fail(room);
  }
}

/** Reads `room=pin,room=pin`; rooms alphanumeric, PINs 1-16 DTMF digits 0-9. */
export function parseRoomPins(text: string | undefined): Map<string, string> {
  const pins = new Map<string, string>();
  if (text === undefined || text.trim() === '') return pins;
  for (const item of text.split(',')) {
    const [room, pin, extra] = item.trim().split('=');
    if (
      extra !== undefined ||
      room === undefined ||
      pin === undefined ||
      !/^[A-Za-z0-9]{1,64}$/.test(room) ||
      !/^[0-9]{1,16}$/.test(pin)
    ) {
      throw new InvalidArgumentError(
        'roomPins',
        `room PIN entry '${item.trim()}' must be room=digits (room alphanumeric, 1-16 digits)`
      );
    }
    pins.set(room, pin);
  }
  return pins;
}

/** What a call's PIN entry may ask of the room's lockout. */
export interface PinGate {
  /** The room takes no PIN now. */
  locked(): boolean | Promise<boolean>;
  /** Counts a wrong PIN unless the room is locked; true when it is locked (by this one or before). */
  wrong(): boolean | Promise<boolean>;
}

/** How a call's PIN entry ended: the right PIN, PIN_ATTEMPTS wrong or silent tries, or a locked room. */
export type PinOutcome = 'right' | 'wrong' | 'locked';

/**
 * Asks for `pin` until it is keyed in right, PIN_ATTEMPTS tries have been wrong or silent, or the
 * room is locked. The lock is read before every prompt and with every guess: a caller already at
 * the prompt when other calls' guesses locked the room gets no more tries, the right PIN
 * included, so K calls held open at the prompt cannot go on guessing through the lock.
 */
export async function askForPin(
  channel: UASCallChannel,
  pin: string,
  gate: PinGate = { locked: () => false, wrong: () => false }
): Promise<PinOutcome> {
  // Digits keyed while a prompt plays count (callers type ahead); earlier ones do not.
  channel.clearDigits();
  for (let attempt = 1; attempt <= PIN_ATTEMPTS; attempt++) {
    if (await gate.locked()) return 'locked';
    await channel.playText(
      attempt === 1
        ? 'Please enter the conference PIN, then press hash.'
        : 'That PIN is not right. Please try again.'
    );
    const keyed = await channel.getDigits({
      clear: false,
      end: '#',
      count: 17,
      secondsTimeout: 20,
      secondsInterdigitTimeout: 5
    });
    // The lock is read with each guess, and a wrong one is counted in the same step (one Redis
    // script in a cluster): past the limit, on whichever engine, a guess hears only 'locked'.
    if (keyed.replace(/#$/, '') === pin) return (await gate.locked()) ? 'locked' : 'right';
    if (keyed === '' ? await gate.locked() : await gate.wrong()) return 'locked';
  }
  return 'wrong';
}

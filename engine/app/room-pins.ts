/**
 * Per-room PINs of the meet-me example, as a conference bridge asks for them: after the greeting
 * the caller hears "please enter the conference PIN, then press hash" and keys it in (in-band,
 * RFC 4733 or SIP INFO). Three wrong tries and the call ends. Read from
 * `UASMEDIA_ROOM_PINS="room42=1234,sales=9999"`.
 */
import { InvalidArgumentError } from '../errors.js';
import type { UASCallChannel } from '../channel/uas-call-channel.js';

export const PIN_ATTEMPTS = 3;

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

/** Asks for `pin` until it is keyed in right; false after PIN_ATTEMPTS wrong or silent tries. */
export async function askForPin(channel: UASCallChannel, pin: string): Promise<boolean> {
  // Digits keyed while a prompt plays count (callers type ahead); earlier ones do not.
  channel.clearDigits();
  for (let attempt = 1; attempt <= PIN_ATTEMPTS; attempt++) {
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
    if (keyed.replace(/#$/, '') === pin) return true;
  }
  return false;
}

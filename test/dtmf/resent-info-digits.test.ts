/**
 * A peer that sends each key press both as RFC 4733 and as SIP INFO over UDP, over real loopback
 * sockets: an INFO whose first copy was lost comes again 500 ms later (RFC 3261 T1), past the
 * 200 ms in which it used to be taken for the same press, and counted as a second digit. Eight
 * presses, same digits back to back among them, give exactly their eight digits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import { eventCodeOf } from '../../engine/rtp/telephone-event.js';
import { rawCall } from '../support/raw-call.js';
import { sleep } from '../support/wait.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One telephone-event packet (payload type 101) of `digit`'s event that began at `timestamp`. */
function event(seq: number, timestamp: number, digit: string, end: boolean, duration: number): Buffer {
  const p = Buffer.alloc(16);
  writeRtpHeader(p, {
    marker: !end && duration === 0,
    payloadType: 101,
    sequenceNumber: seq,
    timestamp,
    ssrc: 0x4733
  });
  p.set([eventCodeOf(digit), (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff], 12);
  return p;
}

describe('digits sent as RFC 4733 and SIP INFO with INFOs resent', () => {
  it('reports 8 presses once each when some of their INFOs come 500 ms late', async () => {
    const { uac, final, channel, sendRtp } = await rawCall(
      cleanups,
      { engine: '127.0.21.5', caller: '127.0.21.6' },
      { minPort: 51040, maxPort: 51059 },
      { formats: '0 101', attributes: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000'] }
    );
    const reported: string[] = [];
    channel.on('dtmf', ({ digit }) => reported.push(digit));
    const keys = '55122259';
    const lostFirstCopy = [true, false, false, true, false, false, true, false];
    // As phones do, an INFO waits for the one before it to be answered (an INFO that overtook a
    // lost one would make the resent one's CSeq out of order: a 500, RFC 3261 §12.2.2).
    let infos = Promise.resolve();
    let seq = 1;
    let cseq = 10;
    for (let i = 0; i < keys.length; i++) {
      const digit = keys[i];
      const info = cseq++;
      infos = infos.then(async () => {
        if (lostFirstCopy[i]) await sleep(500);
        await uac.info(final, info, digit);
        const answered = await uac.next(
          (m) => 'status' in m && m.cseq.seq === info && m.cseq.method === 'INFO',
          5000
        );
        expect('status' in answered && answered.status).toBe(200);
      });
      // A 100 ms press, then a 100 ms pause: five presses a second.
      const timestamp = 8000 + i * 1600;
      for (let k = 0; k < 5; k++) {
        await sendRtp(event(seq++, timestamp, digit, false, k * 160));
        await sleep(20);
      }
      for (let r = 0; r < 3; r++) await sendRtp(event(seq++, timestamp, digit, true, 800));
      await sleep(100);
    }
    // Each INFO's 200 says the engine has taken it: a digit it made is reported by then.
    await infos;
    expect(reported.join('')).toBe(keys);
  });
});

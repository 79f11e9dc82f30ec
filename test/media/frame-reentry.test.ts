/**
 * What a frame reports (an in-band digit, a talker change) reaches the application after the
 * frame, not inside it: an exit digit takes its leg out of the room while the frame loop walks
 * the room's members, and the next member missed its frame (no packet sent that tick), or with
 * destroyOnExit every member and the rooms after it did.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKernels, type DspKernels } from '../../engine/dsp/kernels.js';
import { FrameClock } from '../../engine/clock/frame-clock.js';
import { MixLoop } from '../../engine/media/mix-loop.js';
import { MixRoom } from '../../engine/media/mix-room.js';
import type { MediaLeg } from '../../engine/media/media-leg.js';
import { pcmuLeg } from '../support/pcmu-leg.js';
import { EngineMetrics } from '../../engine/observability/metrics.js';
import { countingPorts, type CountingSocket } from '../support/counting-rtp-ports.js';
import { dtmfTone, toPcm16 } from '../support/dtmf-signals.js';
import { ulawEncode } from '../support/tone-analysis.js';

const HASH = toPcm16(dtmfTone('#', { durationMs: 200, lowDbm0: -6 }));

describe('a frame that ends with an in-band exit digit', () => {
  let kernels: DspKernels | undefined;
  const legs: MediaLeg[] = [];
  afterEach(() => {
    for (const leg of legs.splice(0)) leg.close();
    kernels?.close();
  });

  it('still sends every other member its packet in that tick', async () => {
    kernels = await createKernels('wasm');
    const loop = new MixLoop(new FrameClock(), (error) => {
      throw error;
    });
    const room = new MixRoom(kernels, 8000);
    loop.add(room);
    const metrics = new EngineMetrics();
    let exits = 0;
    const sockets: CountingSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const pair = countingPorts(40000 + 2 * i);
      sockets.push(pair.rtpSocket as unknown as CountingSocket);
      const leg: MediaLeg = pcmuLeg(
        { kernels, loop, ports: pair, metrics },
        {
          // What the conference does with an exit digit: the party goes back on its own.
          onDigit: () => {
            exits++;
            leg.returnToSolo();
          }
        }
      );
      leg.answer(
        `v=0\r\no=- ${i} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
          `m=audio ${20000 + 2 * i} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`
      );
      leg.moveTo(room);
      legs.push(leg);
    }
    const packet = Buffer.alloc(172);
    packet[0] = 0x80;
    let missed = 0;
    for (let frame = 0; frame < 60 && exits === 0; frame++) {
      for (let i = 0; i < 3; i++) {
        packet.writeUInt16BE(frame, 2);
        packet.writeUInt32BE(frame * 160, 4);
        packet.writeUInt32BE(0x1000 + i, 8);
        for (let s = 0; s < 160; s++) {
          const at = frame * 160 + s;
          // The first member presses # for 200 ms; the others are silent.
          packet[12 + s] = i === 0 && at < HASH.length ? ulawEncode(HASH[at]) : 0xff;
        }
        sockets[i].emit('message', packet, {
          address: '127.0.0.1',
          family: 'IPv4',
          port: 20000 + 2 * i,
          size: 172
        });
      }
      const before = sockets.map((s) => s.sent);
      loop.tick();
      await Promise.resolve(); // the microtasks a real tick's turn would run after it
      for (let i = 1; i < 3; i++) if (sockets[i].sent === before[i]) missed++;
    }
    expect(exits).toBe(1);
    expect(missed).toBe(0);
    loop.close();
    room.close();
  });
});

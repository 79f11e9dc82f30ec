/** Every resource the engine holds has a gauge, and the gauges follow a call in and out. */
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';

const engine = new Engine({ sip: { host: '127.0.0.1', port: 0, transports: ['udp'] }, rtp: { minPort: 43200, maxPort: 43299 } });
afterAll(() => engine.stop());

function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in the exposition`);
  return Number(line.slice(name.length + 1));
}

describe('resource gauges', () => {
  it('exposes descriptors, ports, slots, channels, rooms, timers and workers, and they follow a call', async () => {
    engine.on('call', (channel) => void channel.answer().catch(() => undefined));
    await engine.start();
    const idle = await engine.metrics.metrics();
    expect(gauge(idle, 'uasmedia_open_fds')).toBeGreaterThan(5);
    expect(gauge(idle, 'uasmedia_tts_workers')).toBe(1);
    expect(gauge(idle, 'uasmedia_timers')).toBeGreaterThanOrEqual(1); // the frame clock
    for (const name of ['uasmedia_rtp_port_pairs', 'uasmedia_dsp_party_slots', 'uasmedia_dsp_room_slots', 'uasmedia_channels', 'uasmedia_rooms']) {
      expect(gauge(idle, name)).toBe(0);
    }
    const phone = await TonePhone.create({ toneHz: 440 });
    try {
      await phone.call(`sip:x@127.0.0.1:${engine.sipAddresses()[0].port}`);
      const busy = await engine.metrics.metrics();
      expect(gauge(busy, 'uasmedia_rtp_port_pairs')).toBe(1);
      expect(gauge(busy, 'uasmedia_dsp_party_slots')).toBe(1);
      expect(gauge(busy, 'uasmedia_dsp_room_slots')).toBe(1);
      expect(gauge(busy, 'uasmedia_channels')).toBe(1);
      expect(gauge(busy, 'uasmedia_open_fds')).toBeGreaterThan(gauge(idle, 'uasmedia_open_fds'));
      expect(engine.resources()).toMatchObject({ rtpPortPairs: 1, partySlots: 1, roomSlots: 1, channels: 1 });
    } finally {
      await phone.close();
    }
    for (let i = 0; i < 500 && engine.resources().channels > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const after = await engine.metrics.metrics();
    for (const name of ['uasmedia_rtp_port_pairs', 'uasmedia_dsp_party_slots', 'uasmedia_dsp_room_slots', 'uasmedia_channels']) {
      expect(gauge(after, name)).toBe(0);
    }
  }, 30_000);
});

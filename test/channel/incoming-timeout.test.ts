/** An incoming call the application never answers is refused, so it cannot hold ports forever. */
import { describe, it, expect, afterAll } from 'vitest';
import { Engine, State, Cause, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';

const engine = new Engine({
  sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
  rtp: { minPort: 39600, maxPort: 39699 },
  incomingCallTimeoutSeconds: 0.5
});

afterAll(async () => {
  await engine.stop();
});

describe('incoming call timeout', () => {
  it('refuses an unanswered incoming call with 480 and releases its channel', async () => {
    const seen: UASCallChannel[] = [];
    engine.on('call', (channel) => {
      seen.push(channel);
      void channel.ring();
    });
    await engine.start();
    const phone = await TonePhone.create({ toneHz: null });
    try {
      await expect(phone.call(`sip:nobody@127.0.0.1:${engine.sipAddresses()[0].port}`)).rejects.toMatchObject(
        { status: 480 }
      );
      expect(seen).toHaveLength(1);
      expect(seen[0].state).toBe(State.IDLE);
      expect(seen[0].cause()).toBe(Cause.NOANSWER);
      expect(engine.activeChannels()).toHaveLength(0);
    } finally {
      await phone.close();
    }
  });
});

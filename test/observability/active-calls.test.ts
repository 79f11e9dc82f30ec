/**
 * `uasmedia_active_calls` and a cluster node's load count SIP dialogs: a caller transferred into a
 * room counts once, as a plain call does, though it is two channels (its own and the transfer's
 * leg, as the spec models it). Both counted it twice, so a host of conference callers looked twice
 * as loaded to the cluster as one of plain calls.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ConferencePartyMediaSettings, Engine } from '../../engine/index.js';
import type { SipResponse } from '../../sip/message/message.js';
import { RawUac } from '../support/raw-uac.js';
import { RedisServer } from '../support/redis-server.js';
import { parseExposition } from './exposition.js';

const HOST = '127.0.24.1';
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('active calls', () => {
  it('counts a caller in a conference once, in the metric and in the heartbeat load', async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const engine = new Engine({
      sip: { host: HOST, port: 0, transports: ['udp'] },
      rtp: { minPort: 54000, maxPort: 54099 },
      logLevel: 'silent',
      cluster: { redis: redis.socketPath, nodeId: 'counting', leaseMs: 600 }
    });
    cleanups.push(() => engine.stop());
    let answered = 0;
    engine.on('call', async (channel) => {
      await channel.answer();
      // The first caller stays a plain call; the others go into a room.
      if (answered++ === 0) return;
      await channel.transferToConferenceRoom(engine.createChannel(), 'counted', {
        conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false })
      });
    });
    await engine.start();
    const sipPort = engine.sipAddresses()[0].port;
    const calls: Array<{ uac: RawUac; final: SipResponse }> = [];
    for (let i = 0; i < 3; i++) {
      const uac = await new RawUac().open(`127.0.24.${10 + i}`);
      cleanups.push(() => uac.close());
      uac.engineHost = HOST;
      const final = await uac.invite(sipPort, [], 54500 + 2 * i);
      expect(final.status).toBe(200);
      calls.push({ uac, final });
    }
    for (let i = 0; i < 500 && engine.conference('counted')?.parties.length !== 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const inRoomAt = Date.now();

    const scraped = parseExposition(await engine.metrics.metrics());
    expect(scraped.get('uasmedia_parties')).toBe(2);
    expect(scraped.get('uasmedia_active_calls')).toBe(3);
    expect(scraped.get('uasmedia_channels')).toBe(5);

    // The heartbeat written once both callers were in the room.
    const client = new Redis(redis.socketPath);
    cleanups.push(() => client.disconnect());
    let beat: { atMs: number; load: number } | undefined;
    for (let i = 0; i < 500 && !(beat && beat.atMs > inRoomAt); i++) {
      const value = await client.get('uasmedia:node:counting');
      beat = value === null ? undefined : (JSON.parse(value) as { atMs: number; load: number });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(beat?.load).toBe(3);

    for (const { uac, final } of calls) expect((await uac.bye(final)).status).toBe(200);
    for (let i = 0; i < 500 && engine.resources().channels > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(parseExposition(await engine.metrics.metrics()).get('uasmedia_active_calls')).toBe(0);
  }, 30_000);
});

/**
 * An engine with the cluster option, in this process: its options are checked, and with a Redis
 * that is not there it still starts, serves a room locally (marked degraded in a log line and
 * the metric), and stops cleanly.
 */
import { describe, it, expect } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  Engine,
  State,
  ConferencePartyMediaSettings,
  InvalidArgumentError,
  type UASCallChannel
} from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor, waitForAsync } from '../support/wait.js';

describe('cluster option', () => {
  it('rejects a bad nodeId and a too short lease when the engine is constructed', () => {
    expect(
      () =>
        new Engine({
          sip: { port: 0, transports: ['udp'] },
          cluster: { redis: '/nonexistent/r.sock', nodeId: 'a b' }
        })
    ).toThrow(InvalidArgumentError);
    expect(
      () =>
        new Engine({
          sip: { port: 0, transports: ['udp'] },
          cluster: { redis: '/nonexistent/r.sock', nodeId: 'n1', leaseMs: 10 }
        })
    ).toThrow(RangeError);
  });

  it('with Redis unreachable, starts, serves a new room locally marked degraded, and stops cleanly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'uasm-noredis-'));
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(chunk.toString());
          done();
        }
      })
    );
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: 56000, maxPort: 56199 },
      logger,
      cluster: { redis: join(dir, 'missing.sock'), nodeId: 'lonely', leaseMs: 600 }
    });
    const channels: UASCallChannel[] = [];
    engine.on('call', async (channel) => {
      channels.push(channel);
      await channel.answer();
      await channel.transferToConferenceRoom(engine.createChannel(), 'island', {
        conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false })
      });
    });
    const phones: TonePhone[] = [];
    try {
      await engine.start();
      const port = engine.sipAddresses()[0].port;
      for (const user of ['ann', 'ben']) {
        const phone = await TonePhone.create({ toneHz: 440, user });
        phones.push(phone);
        await phone.call(`sip:island@127.0.0.1:${port}`);
      }
      await waitFor(
        () => channels.length === 2 && channels.every((c) => c.state === State.TRANSFERRED),
        10000
      );
      expect(engine.rooms.get('island')?.size).toBe(2);
      await waitForAsync(
        async () => /uasmedia_cluster_degraded_rooms 1/.test(await engine.metrics.metrics()),
        10000
      );
      expect(engine.cluster?.roleIn('island')).toBe('degraded');
      expect(lines.some((l) => l.includes('room served locally (degraded)') && l.includes('island'))).toBe(
        true
      );
    } finally {
      await Promise.all(phones.map((p) => p.close()));
      await engine.stop();
      await rm(dir, { recursive: true, force: true });
    }
    expect(engine.rooms.size).toBe(0);
    expect(engine.rtpPortsInUse).toBe(0);
  }, 30000);

  it('bound to 0.0.0.0 with no trunkAddress, gives the other nodes the host its Contact names, not the wildcard', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'uasmedia-wild-'));
    const engine = new Engine({
      sip: { host: '0.0.0.0', port: 0, transports: ['udp'] },
      rtp: { minPort: 56000, maxPort: 56199 },
      logLevel: 'silent',
      cluster: { redis: join(dir, 'missing.sock'), nodeId: 'wild', leaseMs: 600 }
    });
    try {
      await engine.start();
      const port = engine.sipAddresses()[0].port;
      const trunk = engine.cluster?.trunkAddress ?? '';
      expect(trunk.endsWith(`:${port}`)).toBe(true);
      expect(trunk.startsWith('0.0.0.0')).toBe(false);
    } finally {
      await engine.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

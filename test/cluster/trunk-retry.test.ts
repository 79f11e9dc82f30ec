/**
 * A member whose trunk INVITE is refused tries again after a pause that doubles (250 ms, 500 ms,
 * 1 s, then a lease), whoever looks at the directory: the section's periodic check (every third
 * of a lease) must not bypass that backoff, and two attempts never overlap. The owner is a raw
 * UDP socket standing in for a node (its lease and heartbeat written into Redis by the test),
 * answering every INVITE with 503.
 */
import { createSocket, type Socket } from 'node:dgram';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine, ConferenceLifetimeControl, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { sleep, waitFor } from '../support/wait.js';

const LEASE_MS = 1500;
const MEMBER_HOST = '127.0.0.36';
const OWNER_HOST = '127.0.0.37';
const PHONE_HOST = '127.0.0.39';

const haveRedis = hasPeer('redis-server');

interface Attempt {
  callId: string;
  arrivedMs: number;
  answeredMs: number;
}

/** Answers every INVITE with 503 and notes when each new one (by Call-ID) came and was answered. */
function refusingOwner(socket: Socket, attempts: Attempt[]): void {
  socket.on('message', (data, from) => {
    const text = data.toString('latin1');
    if (!text.startsWith('INVITE ')) return; // the ACKs of our 503s
    const arrivedMs = performance.now();
    const lines = text.split('\r\n');
    const header = (name: string, compact: string): string[] =>
      lines.filter((l) => new RegExp(`^(${name}|${compact})\\s*:`, 'i').test(l));
    const callId = header('Call-ID', 'i')[0] ?? '';
    const response = [
      'SIP/2.0 503 Service Unavailable',
      ...header('Via', 'v'),
      ...header('From', 'f'),
      `${header('To', 't')[0]};tag=refuser`,
      callId,
      ...header('CSeq', 'cseq'),
      'Content-Length: 0',
      '',
      ''
    ].join('\r\n');
    socket.send(response, from.port, from.address);
    if (!attempts.some((a) => a.callId === callId))
      attempts.push({ callId, arrivedMs, answeredMs: performance.now() });
  });
}

function gapsOf(attempts: Attempt[]): number[] {
  return attempts.slice(1).map((a, i) => Math.round(a.arrivedMs - attempts[i].arrivedMs));
}

describe.skipIf(!haveRedis)('trunk INVITE retries', () => {
  let redis: RedisServer;
  let member: Engine;
  let owner: Socket;
  const phones: TonePhone[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    owner = createSocket('udp4');
    await new Promise<void>((resolve) => owner.bind(0, OWNER_HOST, resolve));
    member = new Engine({
      sip: { host: MEMBER_HOST, port: 0, transports: ['udp'] },
      rtp: { minPort: 59900, maxPort: 59949 },
      logLevel: 'error',
      cluster: { redis: redis.socketPath, nodeId: 'member', leaseMs: LEASE_MS }
    });
    member.on('call', async (channel: UASCallChannel) => {
      await channel.answer();
      const room = /^sip:([a-z]+)@/.exec(channel.requestUri ?? '')?.[1] ?? 'refused';
      await channel.transferToConferenceRoom(member.createChannel(), room, {
        conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true })
      });
    });
    await member.start();
  }, 30000);

  afterAll(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await member?.stop();
    owner?.close();
    await redis?.stop();
  }, 30000);

  /** `socket` stands for node `nodeId`, the owner of `room` in the directory, refusing every trunk INVITE; its attempts, as they come. */
  async function ghostOwner(socket: Socket, room: string, nodeId: string): Promise<Attempt[]> {
    const attempts: Attempt[] = [];
    refusingOwner(socket, attempts);
    const client = redis.client();
    const trunkAddress = `${OWNER_HOST}:${socket.address().port}`;
    await client.set(`uasmedia:room:${room}:owner`, `${nodeId} 1`, 'PX', 60000);
    await client.set(
      `uasmedia:node:${nodeId}`,
      JSON.stringify({ nodeId, trunkAddress, load: 0, atMs: Date.now() }),
      'PX',
      60000
    );
    client.disconnect();
    return attempts;
  }

  /** A phone of `user` calls `room` on the member, which then needs a trunk leg to the room's owner. */
  async function callRoom(user: string, room: string): Promise<void> {
    const phone = await TonePhone.create({ toneHz: null, user, host: PHONE_HOST });
    phones.push(phone);
    await phone.call(`sip:${room}@${MEMBER_HOST}:${member.sipAddresses()[0].port}`);
  }

  it('spaces its attempts by the growing backoff, one at a time, across many periodic checks', async () => {
    const attempts = await ghostOwner(owner, 'refused', 'ghost');
    await callRoom('alice', 'refused');
    await waitFor(() => attempts.length >= 1, 10000);
    await waitFor(() => attempts.length >= 6, 30000);
    // 12 periodic checks of the section later: a steady state at one attempt per lease.
    const checks = 12;
    await sleep((checks * LEASE_MS) / 3);

    const gaps = gapsOf(attempts);
    console.log(`${attempts.length} trunk INVITEs, gaps ${gaps.join(', ')} ms`);
    for (let i = 0; i < gaps.length; i++) {
      const backoff = Math.min(LEASE_MS, 250 * 2 ** i);
      // A timer fires no sooner than asked; 10% for clocks that tick unevenly.
      expect(gaps[i], `gap ${i + 1} (backoff ${backoff} ms); all: ${gaps.join(', ')}`).toBeGreaterThanOrEqual(
        backoff * 0.9
      );
      expect(
        attempts[i + 1].arrivedMs,
        'an attempt only after the one before it was refused'
      ).toBeGreaterThan(attempts[i].answeredMs);
    }
  }, 60000);

  it('keeps its backoff when the wall clock steps forward during it', async () => {
    // A second owner, room and caller of their own, so the first test's attempts stay apart.
    const stepOwner = createSocket('udp4');
    await new Promise<void>((resolve) => stepOwner.bind(0, OWNER_HOST, resolve));
    const attempts = await ghostOwner(stepOwner, 'stepped', 'ghost2');
    const realNow = Date.now;
    try {
      await callRoom('bob', 'stepped');
      // The fourth refusal starts a backoff of a lease (1.5 s); the clock then jumps 1.2 s ahead,
      // as a host's may when its time is corrected.
      await waitFor(() => attempts.length >= 4, 15000);
      Date.now = () => realNow() + 1200;
      await waitFor(() => attempts.length >= 6, 15000);
    } finally {
      Date.now = realNow;
      stepOwner.close();
    }
    const gaps = gapsOf(attempts);
    console.log(`with the clock stepped after the 4th: gaps ${gaps.join(', ')} ms`);
    expect(gaps[3], `all: ${gaps.join(', ')}`).toBeGreaterThanOrEqual(LEASE_MS * 0.9);
    expect(gaps[4], `all: ${gaps.join(', ')}`).toBeGreaterThanOrEqual(LEASE_MS * 0.9);
  }, 60000);
});

import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { RtpSession, type RtpSessionOptions } from '../../engine/rtp/rtp-session.js';
import { SendBatch, type QueuedSender } from '../../engine/rtp/send-batch.js';
import { sleep, waitFor } from '../support/wait.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A phone's socket that records the first payload word and sequence number of each packet. */
async function phone(): Promise<{ port: number; got: { word: number; seq: number }[] }> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => s.close());
  const got: { word: number; seq: number }[] = [];
  s.on('message', (msg) => got.push({ word: msg.readUInt32BE(12), seq: msg.readUInt16BE(2) }));
  return { port: s.address().port, got };
}

async function session(batch: SendBatch, to: number, srtp?: RtpSessionOptions['srtp']): Promise<RtpSession> {
  const pool = new RtpPortPool({ host: '127.0.0.1', minPort: 47800, maxPort: 47899 });
  cleanups.push(() => pool.close());
  const s = new RtpSession({
    ports: await pool.allocate(),
    payloadType: 0,
    clockRateHz: 8000,
    samplesPerFrame: 160,
    remote: { address: '127.0.0.1', port: to },
    rtcpIntervalMs: 0,
    sendBatch: batch,
    srtp
  });
  cleanups.push(() => s.close());
  return s;
}

/** The 12-byte header room and a 160-byte payload starting with `word`, as the DSP core lays it out. */
function frame(word: number): Buffer {
  const p = Buffer.alloc(12 + 160, 0xd5);
  p.writeUInt32BE(word, 12);
  return p;
}

describe('SendBatch', () => {
  it('calls every queued sender once, in order, and is empty afterwards', () => {
    const batch = new SendBatch();
    const calls: string[] = [];
    const sender = (name: string): QueuedSender => ({ sendQueued: () => void calls.push(name) });
    batch.add(sender('a'));
    batch.add(sender('b'));
    batch.add(sender('c'));
    expect(batch.pending).toBe(3);
    batch.flush();
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(batch.pending).toBe(0);
    batch.flush();
    expect(calls).toEqual(['a', 'b', 'c']);
  });

  it('still sends the others when one sender throws, then rethrows that error', () => {
    const batch = new SendBatch();
    const calls: string[] = [];
    batch.add({ sendQueued: () => void calls.push('a') });
    batch.add({
      sendQueued: () => {
        throw new Error('socket gone');
      }
    });
    batch.add({ sendQueued: () => void calls.push('c') });
    expect(() => batch.flush()).toThrow('socket gone');
    expect(calls).toEqual(['a', 'c']);
    expect(batch.pending).toBe(0);
  });
});

describe('RtpSession with a send batch, over loopback UDP', () => {
  it('sends its frame when the batch is flushed, not before', async () => {
    const batch = new SendBatch();
    const peer = await phone();
    const rtp = await session(batch, peer.port);
    rtp.sendFrame(frame(7), 160);
    expect(batch.pending).toBe(1);
    await sleep(50);
    expect(peer.got).toEqual([]);
    expect(rtp.packetsSent).toBe(1);
    batch.flush();
    await waitFor(() => peer.got.length === 1);
    expect(peer.got[0].word).toBe(7);
  });

  it('sends two frames queued before one flush, both, in order', async () => {
    const batch = new SendBatch();
    const peer = await phone();
    const rtp = await session(batch, peer.port);
    // Each frame in its own buffer. The DSP core reuses one slot, which is why the frame loop flushes every tick.
    rtp.sendFrame(frame(1), 160);
    rtp.sendFrame(frame(2), 160);
    batch.flush();
    await waitFor(() => peer.got.length === 2);
    expect(peer.got.map((p) => p.word)).toEqual([1, 2]);
    expect(peer.got[1].seq).toBe((peer.got[0].seq + 1) & 0xffff);
  });

  it('sends two SRTP frames queued before one flush, each its own packet', async () => {
    const batch = new SendBatch();
    const peer = await phone();
    const keys = {
      suite: 'AES_CM_128_HMAC_SHA1_80',
      localKeySalt: Buffer.alloc(30, 1),
      remoteKeySalt: Buffer.alloc(30, 2)
    };
    const rtp = await session(batch, peer.port, keys);
    // Both are protected into one buffer of the session's: the first must leave before the second is written there.
    rtp.sendFrame(frame(1), 160);
    rtp.sendFrame(frame(2), 160);
    batch.flush();
    await waitFor(() => peer.got.length === 2);
    expect(peer.got[1].seq).toBe((peer.got[0].seq + 1) & 0xffff);
  });

  it('drops the frame of a session closed before the flush, and the batch goes on with the rest', async () => {
    const batch = new SendBatch();
    const peer = await phone();
    const closing = await session(batch, peer.port);
    const staying = await session(batch, peer.port);
    closing.sendFrame(frame(1), 160);
    staying.sendFrame(frame(2), 160);
    closing.close();
    expect(() => batch.flush()).not.toThrow();
    await waitFor(() => peer.got.length >= 1);
    await sleep(50);
    expect(peer.got.map((p) => p.word)).toEqual([2]);
  });
});

import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PortPoolExhaustedError } from '../../engine/rtp/errors.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function pool(minPort: number, maxPort: number): RtpPortPool {
  const p = new RtpPortPool({ host: '127.0.0.1', minPort, maxPort });
  cleanups.push(() => p.close());
  return p;
}

async function occupy(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve());
  });
  cleanups.push(() => s.close());
  return s;
}

describe('RtpPortPool', () => {
  it('hands out bound even/odd pairs within the range', async () => {
    const p = pool(47301, 47312); // first even port is 47302
    const a = await p.allocate();
    const b = await p.allocate();
    for (const pair of [a, b]) {
      expect(pair.rtpPort % 2).toBe(0);
      expect(pair.rtcpPort).toBe(pair.rtpPort + 1);
      expect(pair.rtpPort).toBeGreaterThanOrEqual(47302);
      expect(pair.rtcpPort).toBeLessThanOrEqual(47312);
      expect(pair.rtpSocket.address().port).toBe(pair.rtpPort);
      expect(pair.rtcpSocket.address().port).toBe(pair.rtcpPort);
    }
    expect(a.rtpPort).not.toBe(b.rtpPort);
    expect(p.inUse).toBe(2);
  });

  it('skips a pair whose RTCP port another socket holds (EADDRINUSE) and tries the next', async () => {
    await occupy(47321);
    const p = pool(47320, 47323);
    const pair = await p.allocate();
    expect(pair.rtpPort).toBe(47322);
  });

  it('refuses with a typed error when exhausted, and reuses released pairs', async () => {
    const p = pool(47330, 47333);
    const a = await p.allocate();
    const b = await p.allocate();
    const error = await p.allocate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortPoolExhaustedError);
    expect((error as PortPoolExhaustedError).code).toBe('ERR_PORT_POOL_EXHAUSTED');
    a.release();
    a.release(); // idempotent
    expect(p.inUse).toBe(1);
    const c = await p.allocate();
    expect(c.rtpPort).toBe(a.rtpPort);
    b.release();
    c.release();
    expect(p.inUse).toBe(0);
  });

  it('allocates concurrently without handing out the same pair twice', async () => {
    const p = pool(47340, 47349);
    const pairs = await Promise.all([p.allocate(), p.allocate(), p.allocate(), p.allocate(), p.allocate()]);
    expect(new Set(pairs.map((x) => x.rtpPort)).size).toBe(5);
    await expect(p.allocate()).rejects.toBeInstanceOf(PortPoolExhaustedError);
  });

  it('close releases every pair and later allocations reject', async () => {
    const p = pool(47350, 47353);
    const a = await p.allocate();
    p.close();
    p.close();
    expect(p.inUse).toBe(0);
    await expect(p.allocate()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    // the port is free again
    const s = await occupy(a.rtpPort);
    expect(s.address().port).toBe(a.rtpPort);
  });

  it('rejects a range without an even/odd pair', () => {
    expect(() => new RtpPortPool({ host: '127.0.0.1', minPort: 47361, maxPort: 47362 })).toThrow(RangeError);
  });
});

describe('RtpPortPool order', () => {
  const host = '127.0.27.30';

  it("hands pairs out in an order a caller cannot tell from its own call's port", async () => {
    const p = new RtpPortPool({ host, minPort: 57600, maxPort: 57999 });
    cleanups.push(() => p.close());
    const ports: number[] = [];
    for (let i = 0; i < 10; i++) ports.push((await p.allocate()).rtpPort);
    // In turn, each call's port was the last one's + 2: a stranger sprayed the next few ports
    // and, with first-packet latching, took the calls. Random, a successor comes 1 time in 200.
    const successors = ports.slice(1).filter((port, i) => port === ports[i] + 2).length;
    expect(successors).toBeLessThan(3);
  });

  it('gives a released pair out again only when no rested one is free', async () => {
    const p = new RtpPortPool({ host, minPort: 57590, maxPort: 57595 }); // three pairs
    cleanups.push(() => p.close());
    const first = await p.allocate();
    first.release();
    const others = [await p.allocate(), await p.allocate()];
    expect(others.map((pair) => pair.rtpPort)).not.toContain(first.rtpPort);
    expect((await p.allocate()).rtpPort).toBe(first.rtpPort);
  });
});

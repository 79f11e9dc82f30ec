/**
 * A member started with another cluster.trunkSecret, or whose clock is more than a tag's lifetime
 * (120 s) off, cannot join any room of the owner: its callers hear nobody. The owner refused its
 * trunk legs (403) saying so only at info level, and the room looked healthy to an operator. Now
 * it warns (at most once a minute per node), naming the clock's offset when the signature is right
 * but its time is not. Over real SIP on loopback; Redis is not needed (the secret is configured).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';
import { formatTrunkTag } from '../../engine/cluster/trunk-header.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { Writable } from 'node:stream';
import pino from 'pino';

const SECRET = 'a'.repeat(43);
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An owner with a known secret; a caller that sends it trunk INVITEs; what the owner warned. */
async function owner() {
  const dir = await mkdtemp(join(tmpdir(), 'uasmedia-trunk-misconf-'));
  closers.push(() => rm(dir, { recursive: true, force: true }));
  const lines: Array<{ level: number; msg: string; [key: string]: unknown }> = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      }
    })
  );
  const engine = new Engine({
    sip: { host: '127.0.0.31', port: 0, transports: ['udp'] },
    rtp: { minPort: 56200, maxPort: 56299 },
    logger,
    cluster: { redis: join(dir, 'missing.sock'), nodeId: 'owner', leaseMs: 600, trunkSecret: SECRET }
  });
  await engine.start();
  closers.push(() => engine.stop());
  const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.32', port: 0 }] });
  await ua.start();
  closers.push(() => ua.close());
  const port = engine.sipAddresses()[0].port;
  const status = (header: string): Promise<number | undefined> =>
    ua
      .invite(`sip:sales@127.0.0.31:${port}`, { body: testSdp(9), headers: { 'X-Uasmedia-Trunk': header } })
      .established.then(
        () => 200,
        (error: { status?: number }) => error.status
      );
  const refusals = () => lines.filter((l) => l.msg.startsWith('trunk legs with a bad signature refused'));
  return { status, refusals };
}

const tag = (secret: string, atSeconds: number): string =>
  formatTrunkTag({ room: 'sales', epoch: 1, node: 'member' }, secret, atSeconds);

describe("an owner refusing a misconfigured member's trunk legs", () => {
  it('warns once for a member signing with another secret, however many legs it tries', async () => {
    const { status, refusals } = await owner();
    for (let i = 0; i < 3; i++) expect(await status(tag('b'.repeat(43), Date.now() / 1000))).toBe(403);
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]).toMatchObject({ from: 'member', roomName: 'sales' });
    expect(refusals()[0]).not.toHaveProperty('clockSkewSeconds');
  });

  it("names the clock's offset for a member whose tags are signed right at the wrong time", async () => {
    const { status, refusals } = await owner();
    expect(await status(tag(SECRET, Date.now() / 1000 - 300))).toBe(403);
    expect(refusals()).toHaveLength(1);
    const skew = (refusals()[0] as { clockSkewSeconds?: number }).clockSkewSeconds;
    expect(skew).toBeGreaterThanOrEqual(299);
    expect(skew).toBeLessThan(330);
  });
});

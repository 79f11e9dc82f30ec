/**
 * The per-source datagram rate over UDP (datagram-rate.ts): a source past its rate has its
 * datagrams dropped before they are parsed, others are answered as before, and each episode is
 * reported once. Over real sockets: 127.0.0.2 floods OPTIONS, 127.0.0.3 asks once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DatagramRate } from '../../../sip/transport/datagram-rate.js';
import { KeyedTokenBuckets } from '../../../sip/admission/token-bucket.js';
import { SipUserAgent } from '../../../sip/user-agent.js';
import { SipResponse } from '../../../sip/message/message.js';
import { UdpTestPeer, optionsText } from '../../support/sip-udp-peer.js';
import { warningLogger } from '../../support/warning-logger.js';
import { waitFor } from '../../support/wait.js';

describe('DatagramRate', () => {
  it('admits a burst, then the rate, per source; one episode per flood', () => {
    let nowMs = 0;
    const episodes: string[] = [];
    const rate = new DatagramRate(
      new KeyedTokenBuckets({ ratePerSecond: 10, burst: 5 }),
      (s) => episodes.push(s),
      () => nowMs
    );
    const admitted = (host: string, n: number): number => {
      let count = 0;
      for (let i = 0; i < n; i++) if (rate.admit(host)) count++;
      return count;
    };
    expect(admitted('192.0.2.1', 100)).toBe(5);
    // Another source has its own bucket; the same /64 is one source.
    expect(admitted('192.0.2.2', 3)).toBe(3);
    expect(admitted('2001:db8::1', 4) + admitted('2001:db8::2', 4)).toBe(5);
    expect(episodes).toEqual(['192.0.2.1', '2001:db8:0:0::/64']);
    // 200 ms later two more tokens have flowed in; the flood goes on, still one episode.
    nowMs = 200;
    expect(admitted('192.0.2.1', 100)).toBe(2);
    expect(episodes).toHaveLength(2);
    expect(rate.stats).toEqual({ dropped: 95 + 98 + 3, episodes: 2 });
    // Quiet for as long as the bucket takes to fill: the next flood is a new episode.
    nowMs = 200 + 500;
    expect(admitted('192.0.2.1', 100)).toBe(5);
    expect(episodes).toEqual(['192.0.2.1', '2001:db8:0:0::/64', '192.0.2.1']);
  });

  it('remembers a bounded number of dropping sources', () => {
    const episodes: string[] = [];
    const rate = new DatagramRate(
      new KeyedTokenBuckets({ ratePerSecond: 1, burst: 1 }, 100),
      (s) => episodes.push(s),
      () => 0,
      100
    );
    for (let i = 0; i < 1000; i++) {
      const host = `10.0.${i >> 8}.${i & 255}`;
      rate.admit(host);
      rate.admit(host);
    }
    expect(rate.stats.dropped).toBe(1000);
    expect(episodes).toHaveLength(1000);
    // The latest source is still remembered as dropping: no second report.
    rate.admit('10.0.3.231');
    expect(episodes).toHaveLength(1000);
  });
});

describe('SipUserAgent over UDP with a per-source datagram rate', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanup.splice(0).map((close) => close()));
  });

  it('drops a flooding source unread past its burst, answers another source, and warns once', async () => {
    const { logger, warnings } = warningLogger();
    // One token a second: however long a busy host takes over the flood, only a few more get in.
    const ua = new SipUserAgent({
      transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
      connections: { maxMessagesPerSecondPerSource: 1, messageBurstPerSource: 20 },
      logger
    });
    await ua.start();
    cleanup.push(() => ua.close());
    const port = ua.addresses()[0].port;
    const flooder = await new UdpTestPeer().open('127.0.0.2');
    const other = await new UdpTestPeer().open('127.0.0.3');
    cleanup.push(
      () => flooder.close(),
      () => other.close()
    );

    const FLOOD = 300;
    for (let i = 0; i < FLOOD; i++)
      await flooder.send(optionsText(`flood-${i}`, 'UDP', flooder.port, port), port);
    await waitFor(() => ua.stats.received + ua.datagramRate.stats.dropped >= FLOOD);
    await other.send(optionsText('other', 'UDP', other.port, port), port);
    const answer = (await other.next((m) => m instanceof SipResponse)) as SipResponse;
    expect(answer.status).toBe(200);

    const read = ua.stats.received;
    expect(read).toBeGreaterThanOrEqual(20 + 1);
    expect(read).toBeLessThanOrEqual(20 + 1 + 5);
    expect(ua.datagramRate.stats.dropped).toBe(FLOOD + 1 - read);
    await waitFor(() => flooder.received.length >= read - 1);
    expect(flooder.received.every((m) => m instanceof SipResponse && m.status === 200)).toBe(true);
    const rateWarnings = warnings.filter((w) => w.msg.includes('SIP datagrams'));
    expect(rateWarnings).toHaveLength(1);
    expect(rateWarnings[0].details).toMatchObject({ source: '127.0.0.2', maxMessagesPerSecondPerSource: 1 });
    expect(ua.datagramRate.stats.episodes).toBe(1);
  });
});

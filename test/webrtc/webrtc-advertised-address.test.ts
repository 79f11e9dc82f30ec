/**
 * An engine behind 1:1 NAT: `rtp.advertisedAddress` (or `webrtc.advertisedAddress`) names its
 * public address, which is on no interface. Phones got it in SDP; a browser's answer named only
 * the private host candidates, which a browser on the Internet cannot reach. Now each UDP host
 * candidate is also offered at the advertised address, same port, as server-reflexive, with the
 * host candidate as its base. The advertised address here is 127.0.0.9: loopback, where nothing
 * listens, so no packet leaves the host. The browser is @roamhq/wrtc over a WebSocket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type EngineOptions } from '../../engine/index.js';
import { withAdvertisedCandidates } from '../../engine/webrtc/advertised-candidates.js';
import { waitFor } from '../support/wait.js';
import { WebRtcCaller } from '../support/webrtc-caller.js';

const ADVERTISED = '127.0.0.9';
const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Candidate {
  foundation: string;
  priority: number;
  address: string;
  port: string;
  type: string;
  raddr?: string;
  rport?: string;
}

function candidates(sdp: string): Candidate[] {
  return sdp
    .split(/\r?\n/)
    .filter((line) => line.startsWith('a=candidate:'))
    .map((line) => {
      const f = line.slice('a=candidate:'.length).split(' ');
      const at = (name: string): string | undefined => {
        const i = f.indexOf(name);
        return i > 0 ? f[i + 1] : undefined;
      };
      return {
        foundation: f[0],
        priority: Number(f[3]),
        address: f[4],
        port: f[5],
        type: f[7],
        raddr: at('raddr'),
        rport: at('rport')
      };
    });
}

/** A browser's call answered by an engine with `options`: the answer's candidates, once its peer connection is up. */
async function answeredCandidates(options: {
  rtp?: { advertisedAddress?: string };
  webrtc?: EngineOptions['webrtc'];
}): Promise<Candidate[]> {
  const engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    rtp: { minPort: rtpBase, maxPort: rtpBase + 99, ...options.rtp },
    webrtc: { iceServers: [], ...options.webrtc },
    logLevel: 'silent'
  });
  engine.on('call', (channel) => void channel.answer().catch(() => undefined));
  await engine.start();
  cleanups.push(() => engine.stop());
  const caller = new WebRtcCaller({ toneHz: 440 });
  cleanups.push(() => caller.close());
  const url = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
  const ok = await caller.call(url, 'sip:room@127.0.0.1');
  expect(ok.status).toBe(200);
  // The extra candidate does not stand in the way: ICE still connects on loopback.
  await waitFor(
    () => caller.pc.iceConnectionState === 'connected' || caller.pc.iceConnectionState === 'completed',
    10_000
  );
  return candidates(ok.bodyText);
}

describe('a WebRTC answer behind 1:1 NAT', () => {
  it('names every UDP host candidate at rtp.advertisedAddress too, as server-reflexive', async () => {
    const found = await answeredCandidates({ rtp: { advertisedAddress: ADVERTISED } });
    const hosts = found.filter((c) => c.type === 'host' && !c.address.includes(':'));
    const mapped = found.filter((c) => c.address === ADVERTISED);
    expect(hosts.length).toBeGreaterThan(0);
    expect(mapped).toHaveLength(hosts.length);
    for (const host of hosts) {
      const twin = mapped.find((c) => c.raddr === host.address && c.rport === host.port);
      expect(twin).toMatchObject({ type: 'srflx', port: host.port });
      // Below its host candidate: a browser on the same network still goes straight to it.
      expect(twin!.priority).toBeLessThan(host.priority);
      expect(twin!.foundation).not.toBe(host.foundation);
    }
  });

  it('webrtc.advertisedAddress applies to browsers alone; without either, the answer is as gathered', async () => {
    const own = await answeredCandidates({ webrtc: { advertisedAddress: ADVERTISED } });
    expect(own.some((c) => c.address === ADVERTISED && c.type === 'srflx')).toBe(true);
    const plain = await answeredCandidates({});
    expect(plain.filter((c) => c.type !== 'host')).toHaveLength(0);
  });

  it('is refused at construction when not an IP address', () => {
    expect(
      () => new Engine({ sip: { host: '127.0.0.1', port: 0 }, webrtc: { advertisedAddress: 'nat.example' } })
    ).toThrow(/webrtc.advertisedAddress must be an IPv4 or IPv6 address/);
  });
});

describe('withAdvertisedCandidates', () => {
  const host = 'a=candidate:1467250027 1 udp 2122260223 10.0.0.5 50000 typ host generation 0 network-id 1';

  it('adds an srflx twin after a UDP host candidate of the address family, and nothing else', () => {
    const sdp = [
      'v=0',
      host,
      'a=candidate:2 1 tcp 1518280447 10.0.0.5 9 typ host tcptype active',
      'a=candidate:3 1 udp 2122262783 fd00::5 50002 typ host',
      'a=candidate:4 1 udp 1686052607 198.51.100.1 50000 typ srflx raddr 10.0.0.5 rport 50000',
      ''
    ].join('\r\n');
    const out = withAdvertisedCandidates(sdp, '203.0.113.7').split('\r\n');
    expect(out).toHaveLength(7);
    expect(out[2]).toBe(
      `a=candidate:n1467250027 1 udp ${100 * 2 ** 24 + (Math.floor(2122260223 / 256) % 65536) * 256 + 255} 203.0.113.7 50000 typ srflx raddr 10.0.0.5 rport 50000 generation 0 network-id 1`
    );
    expect(withAdvertisedCandidates(sdp, undefined)).toBe(sdp);
    // Already named there (the host's own public address): no twin.
    expect(withAdvertisedCandidates(sdp, '10.0.0.5')).toBe(sdp);
  });

  it('keeps a foundation within 32 characters and leaves malformed lines alone', () => {
    const long = `a=candidate:${'f'.repeat(32)} 1 udp 2122260223 10.0.0.5 50000 typ host`;
    const out = withAdvertisedCandidates(long, '203.0.113.7').split('\n');
    expect(out[1].split(' ')[0]).toBe(`a=candidate:n${'f'.repeat(31)}`);
    for (const bad of [
      'a=candidate:1 1 udp',
      'a=candidate:1 999 udp 1 10.0.0.5 1 typ host',
      'a=candidate:'
    ]) {
      expect(withAdvertisedCandidates(bad, '203.0.113.7')).toBe(bad);
    }
  });
});

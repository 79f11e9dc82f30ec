/**
 * RFC 3263 §4.2 for request targets named by host name, against a DNS server on loopback: a
 * name without a port goes where its SRV records say (lowest priority first, past a target that
 * does not resolve), a name with a port is looked up for its address only, over UDP and TCP.
 * §4.3: a target that left a transaction unanswered (timer B) or refused its connection is tried
 * last for a while, so the next request reaches the next target.
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { SipUserAgent } from '../../sip/index.js';
import { Engine, State } from '../../engine/index.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { SipRequest } from '../../sip/message/message.js';
import { TestDnsServer, type DnsRecord } from '../support/dns-server.js';
import { TcpListeningTestPeer, UdpTestPeer, isRequest, type SipTestPeer } from '../support/sip-udp-peer.js';

const OFFER =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

describe('request targets named by host name', () => {
  const closing: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  async function udpPeer(): Promise<UdpTestPeer> {
    const peer = await new UdpTestPeer().open();
    closing.push(() => peer.close());
    return peer;
  }

  async function dns(records: DnsRecord[]): Promise<TestDnsServer> {
    const server = await TestDnsServer.start(records);
    closing.push(() => server.close());
    return server;
  }

  async function agent(
    server: TestDnsServer,
    protocol: 'udp' | 'tcp' = 'udp',
    t1Ms?: number
  ): Promise<SipUserAgent> {
    const ua = new SipUserAgent({
      transports: [{ protocol, host: '127.0.0.1', port: 0 }],
      dnsServers: [server.address],
      timers: t1Ms === undefined ? undefined : { t1Ms, t2Ms: 4000, t4Ms: 5000 }
    });
    await ua.start();
    closing.push(() => ua.close());
    return ua;
  }

  /** Sends an INVITE to `target` and resolves with the peer that got it. */
  async function inviteLands(ua: SipUserAgent, target: string, peers: SipTestPeer[]): Promise<number> {
    const invite = ua.invite(target, { body: OFFER });
    invite.established.catch(() => undefined);
    closing.push(() => invite.cancel());
    return Promise.any(peers.map((peer, i) => peer.next(isRequest('INVITE'), 5000).then(() => i)));
  }

  const address = (name: string): DnsRecord => ({ type: 'A', name, address: '127.0.0.1' });

  /** `_sip._<protocol>.trunk.test`: a.trunk.test on `first` (priority 10), b.trunk.test on `second` (20). */
  const twoEdges = (protocol: 'udp' | 'tcp', first: number, second: number): DnsRecord[] => [
    {
      type: 'SRV',
      name: `_sip._${protocol}.trunk.test`,
      priority: 10,
      weight: 0,
      port: first,
      target: 'a.trunk.test'
    },
    {
      type: 'SRV',
      name: `_sip._${protocol}.trunk.test`,
      priority: 20,
      weight: 0,
      port: second,
      target: 'b.trunk.test'
    },
    address('a.trunk.test'),
    address('b.trunk.test')
  ];

  /** The final outcome of an INVITE to `target`: the status it failed with, or 'answered'. */
  function outcome(ua: SipUserAgent, target: string): Promise<number | 'answered'> {
    const invite = ua.invite(target, { body: OFFER });
    return invite.established.then(
      () => 'answered' as const,
      (error: { status?: number }) => error.status ?? 0
    );
  }

  it('goes to the SRV target of lowest priority', async () => {
    const [first, second] = [await udpPeer(), await udpPeer()];
    const server = await dns([
      {
        type: 'SRV',
        name: '_sip._udp.trunk.test',
        priority: 20,
        weight: 0,
        port: second.port,
        target: 'b.trunk.test'
      },
      {
        type: 'SRV',
        name: '_sip._udp.trunk.test',
        priority: 10,
        weight: 0,
        port: first.port,
        target: 'a.trunk.test'
      },
      address('a.trunk.test'),
      address('b.trunk.test')
    ]);
    const ua = await agent(server);
    expect(await inviteLands(ua, 'sip:room@trunk.test', [first, second])).toBe(0);
    expect(server.questions).toContain('SRV _sip._udp.trunk.test');
    expect(second.received).toHaveLength(0);
  });

  it('passes over an SRV target that does not resolve', async () => {
    const reachable = await udpPeer();
    const server = await dns([
      {
        type: 'SRV',
        name: '_sip._udp.trunk.test',
        priority: 10,
        weight: 0,
        port: 9,
        target: 'gone.trunk.test'
      },
      {
        type: 'SRV',
        name: '_sip._udp.trunk.test',
        priority: 20,
        weight: 0,
        port: reachable.port,
        target: 'b.trunk.test'
      },
      address('b.trunk.test')
    ]);
    const ua = await agent(server);
    expect(await inviteLands(ua, 'sip:room@trunk.test', [reachable])).toBe(0);
  });

  it('looks up only the address of a name given with a port', async () => {
    const peer = await udpPeer();
    const server = await dns([
      { type: 'SRV', name: '_sip._udp.trunk.test', priority: 10, weight: 0, port: 9, target: 'a.trunk.test' },
      address('trunk.test')
    ]);
    const ua = await agent(server);
    const message = peer.next(isRequest('INVITE'), 5000);
    const invite = ua.invite(`sip:room@trunk.test:${peer.port}`, { body: OFFER });
    invite.established.catch(() => undefined);
    expect(((await message) as SipRequest).uri).toBe(`sip:room@trunk.test:${peer.port}`);
    expect(server.questions.filter((q) => q.startsWith('SRV'))).toEqual([]);
  });

  it('looks up _sip._tcp for a target over TCP', async () => {
    const peer = new TcpListeningTestPeer();
    await peer.listen();
    closing.push(() => peer.close());
    const server = await dns([
      {
        type: 'SRV',
        name: '_sip._tcp.trunk.test',
        priority: 10,
        weight: 0,
        port: peer.port,
        target: 'a.trunk.test'
      },
      address('a.trunk.test')
    ]);
    const ua = await agent(server, 'tcp');
    expect(await inviteLands(ua, 'sip:room@trunk.test;transport=tcp', [peer])).toBe(0);
    expect(server.questions).toContain('SRV _sip._tcp.trunk.test');
  });

  it('sends the next request to the next SRV target once one left an INVITE unanswered', async () => {
    const [silent, live] = [await udpPeer(), await udpPeer()];
    // T1 of 20 ms: timer B (64*T1) gives up on the silent target after 1.28 s.
    const ua = await agent(await dns(twoEdges('udp', silent.port, live.port)), 'udp', 20);
    expect(await outcome(ua, 'sip:room@trunk.test')).toBe(408);
    expect(silent.received.filter(isRequest('INVITE')).length).toBeGreaterThan(1);
    expect(live.received).toHaveLength(0);
    silent.received.length = 0;
    expect(await inviteLands(ua, 'sip:room@trunk.test', [silent, live])).toBe(1);
    // Only the one that failed is passed over: the live one still gets the next.
    expect(await inviteLands(ua, 'sip:other@trunk.test', [silent, live])).toBe(1);
  });

  it('sends the next request to the next SRV target once one refused the connection', async () => {
    const live = new TcpListeningTestPeer();
    await live.listen();
    closing.push(() => live.close());
    // A port nothing listens on: connecting is refused at once.
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    const ua = await agent(await dns(twoEdges('tcp', closed, live.port)), 'tcp');
    expect(await outcome(ua, 'sip:room@trunk.test;transport=tcp')).toBe(503);
    expect(await inviteLands(ua, 'sip:room@trunk.test;transport=tcp', [live])).toBe(0);
  });

  it("takes the engine's calls to a name through sip.dnsServers", async () => {
    const callee = await startAnsweringEngine({ minPort: 54900, maxPort: 54949 });
    closing.push(() => callee.engine.stop());
    const server = await dns([
      {
        type: 'SRV',
        name: '_sip._udp.trunk.test',
        priority: 10,
        weight: 0,
        port: callee.sipPort,
        target: 'a.trunk.test'
      },
      address('a.trunk.test')
    ]);
    const caller = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'], dnsServers: [server.address] },
      rtp: { minPort: 54950, maxPort: 54999 },
      logLevel: 'silent'
    });
    await caller.start();
    closing.push(() => caller.stop());
    const channel = caller.createChannel();
    expect(await channel.call('sip:room@trunk.test')).toBe(State.ANSWERED);
    expect(callee.incoming).toHaveLength(1);
    await channel.hangUp();
  });
});

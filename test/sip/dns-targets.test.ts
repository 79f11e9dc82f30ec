/**
 * RFC 3263 §4.2 for request targets named by host name, against a DNS server on loopback: a
 * name without a port goes where its SRV records say (lowest priority first, past a target that
 * does not resolve), a name with a port is looked up for its address only, over UDP and TCP.
 * §4.3: a request that a target left unanswered (timer B or F), whose connection it refused, or
 * that it answered 503 before ringing, goes on to the next target as a new transaction; the
 * target that failed is tried last for a while, so the next request goes straight to the next.
 */
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { SipUserAgent } from '../../sip/index.js';
import { Engine, State } from '../../engine/index.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { SipRequest } from '../../sip/message/message.js';
import { TestDnsServer, type DnsRecord } from '../support/dns-server.js';
import { TcpListeningTestPeer, UdpTestPeer, isRequest, type SipTestPeer } from '../support/sip-udp-peer.js';
import { responseTo } from '../support/sip-messages.js';
import { makeTestCertificate, type TestCertificate } from '../support/tls-certificate.js';
import { hasPeer } from '../support/peers.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';

const haveOpenssl = hasPeer('openssl');

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
    protocol: 'udp' | 'tcp' | Array<'udp' | 'tcp'> = 'udp',
    t1Ms?: number
  ): Promise<SipUserAgent> {
    const ua = new SipUserAgent({
      transports: [protocol].flat().map((p) => ({ protocol: p, host: '127.0.0.1', port: 0 })),
      dnsServers: [server.address],
      timers: t1Ms === undefined ? undefined : { t1Ms, t2Ms: 4000, t4Ms: 5000 }
    });
    await ua.start();
    closing.push(() => ua.close());
    return ua;
  }

  /** Sends an INVITE to `target` and resolves with the peer that got it. */
  async function inviteLands(
    ua: SipUserAgent,
    target: string,
    peers: SipTestPeer[],
    transport?: 'udp' | 'tcp' | 'tls'
  ): Promise<number> {
    const invite = ua.invite(target, { body: OFFER, transport });
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

  /** A NAPTR record of naptr.test for `services`, pointing at the SRV name `replacement`. */
  const naptr = (order: number, services: string, replacement: string): DnsRecord => ({
    type: 'NAPTR',
    name: 'naptr.test',
    order,
    preference: 10,
    flags: 's',
    services,
    replacement
  });

  const srv = (name: string, port: number): DnsRecord => ({
    type: 'SRV',
    name,
    priority: 10,
    weight: 0,
    port,
    target: 'a.naptr.test'
  });

  it("takes the transport of a name's first NAPTR record, and the SRV name it names (RFC 3263 §4.1)", async () => {
    const [tcpPeer, udp] = [new TcpListeningTestPeer(), await udpPeer()];
    await tcpPeer.listen();
    closing.push(() => tcpPeer.close());
    const server = await dns([
      naptr(20, 'SIP+D2U', '_sip._udp.naptr.test'),
      naptr(10, 'SIP+D2T', '_sip._tcp.edge.naptr.test'),
      srv('_sip._tcp.edge.naptr.test', tcpPeer.port),
      srv('_sip._udp.naptr.test', udp.port),
      address('a.naptr.test')
    ]);
    const ua = await agent(server, ['udp', 'tcp']);
    const transport = await ua.transportFor('sip:room@naptr.test');
    expect(transport).toBe('tcp');
    expect(await inviteLands(ua, 'sip:room@naptr.test', [tcpPeer, udp], transport)).toBe(0);
    const invite = invites(tcpPeer)[0];
    expect(invite.get('Via')).toMatch(/^SIP\/2\.0\/TCP /);
    expect(server.questions).toContain('NAPTR naptr.test');
    expect(server.questions).toContain('SRV _sip._tcp.edge.naptr.test');
  });

  it('passes over NAPTR services it does not have (TLS not configured, SCTP) to the next', async () => {
    const udp = await udpPeer();
    const server = await dns([
      naptr(10, 'SIPS+D2T', '_sips._tcp.naptr.test'),
      naptr(20, 'SIP+D2S', '_sip._sctp.naptr.test'),
      naptr(30, 'SIP+D2U', '_sip._udp.edge.naptr.test'),
      srv('_sip._udp.edge.naptr.test', udp.port),
      address('a.naptr.test')
    ]);
    const ua = await agent(server, ['udp', 'tcp']);
    // UDP is what invite() takes anyway: left to it, so a large request still goes over TCP.
    expect(await ua.transportFor('sip:room@naptr.test')).toBeUndefined();
    expect(await inviteLands(ua, 'sip:room@naptr.test', [udp])).toBe(0);
    expect(server.questions).toContain('SRV _sip._udp.edge.naptr.test');
  });

  it('with no NAPTR records, takes the transport whose SRV records exist', async () => {
    const server = await dns([srv('_sip._tcp.naptr.test', 5099), address('a.naptr.test')]);
    const ua = await agent(server, ['udp', 'tcp']);
    expect(await ua.transportFor('sip:room@naptr.test')).toBe('tcp');
    expect(server.questions).toEqual(
      expect.arrayContaining(['NAPTR naptr.test', 'SRV _sip._udp.naptr.test', 'SRV _sip._tcp.naptr.test'])
    );
    const udpOnly = await agent(server, 'udp');
    expect(await udpOnly.transportFor('sip:room@naptr.test')).toBeUndefined();
  });

  it('asks a name its NAPTR and SRV questions once for the transport choice and the requests after it', async () => {
    const tcpPeer = new TcpListeningTestPeer();
    await tcpPeer.listen();
    closing.push(() => tcpPeer.close());
    const server = await dns([srv('_sip._tcp.naptr.test', tcpPeer.port), address('a.naptr.test')]);
    const ua = await agent(server, ['udp', 'tcp']);
    for (let call = 0; call < 2; call++) {
      const transport = await ua.transportFor('sip:room@naptr.test');
      expect(transport).toBe('tcp');
      expect(await inviteLands(ua, 'sip:room@naptr.test', [tcpPeer], transport)).toBe(0);
    }
    const asked = (question: string): number => server.questions.filter((q) => q === question).length;
    expect(asked('NAPTR naptr.test')).toBe(1);
    expect(asked('SRV _sip._udp.naptr.test')).toBe(1);
    expect(asked('SRV _sip._tcp.naptr.test')).toBe(1);
    expect(asked('A a.naptr.test')).toBe(1);
  });

  it('looks up no NAPTR for a URI naming its transport or port, or an address', async () => {
    const server = await dns([naptr(10, 'SIP+D2T', '_sip._tcp.naptr.test')]);
    const ua = await agent(server, ['udp', 'tcp']);
    expect(await ua.transportFor('sip:room@naptr.test;transport=udp')).toBeUndefined();
    expect(await ua.transportFor('sip:room@naptr.test:5070')).toBeUndefined();
    expect(await ua.transportFor('sip:room@127.0.0.1')).toBeUndefined();
    expect(server.questions).toEqual([]);
  });

  /** The branch of a request's top Via: a new one makes a new transaction. */
  const branchOf = (request: SipRequest): string =>
    /branch=([^;,\s]+)/.exec(request.get('Via') ?? '')?.[1] ?? '';

  /** What `peer` got, as INVITEs. */
  const invites = (peer: SipTestPeer): SipRequest[] =>
    peer.received.filter(isRequest('INVITE')).map((m) => m as SipRequest);

  it('sends an INVITE that a target left unanswered on to the next SRV target', async () => {
    const [silent, live] = [await udpPeer(), await udpPeer()];
    // T1 of 20 ms: timer B (64*T1) gives up on the silent target after 1.28 s.
    const ua = await agent(await dns(twoEdges('udp', silent.port, live.port)), 'udp', 20);
    const result = outcome(ua, 'sip:room@trunk.test');
    const retried = (await live.next(isRequest('INVITE'), 5000)) as SipRequest;
    const first = invites(silent);
    expect(first.length).toBeGreaterThan(1);
    // RFC 3263 §4.3: the same request in a new transaction.
    expect(retried.callId).toBe(first[0].callId);
    expect(retried.cseq.seq).toBe(first[0].cseq.seq);
    expect(branchOf(retried)).not.toBe(branchOf(first[0]));
    await live.send(responseTo(retried, 486, 'live').toBuffer(), ua.addresses()[0].port);
    expect(await result).toBe(486);
    // The target that failed is tried last for a while: the next call goes straight to the live one.
    silent.received.length = 0;
    expect(await inviteLands(ua, 'sip:other@trunk.test', [silent, live])).toBe(1);
  });

  it('sends an INVITE whose connection a target refused on to the next SRV target at once', async () => {
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
    const result = outcome(ua, 'sip:room@trunk.test;transport=tcp');
    const invite = (await live.next(isRequest('INVITE'), 5000)) as SipRequest;
    await live.send(responseTo(invite, 486, 'live').toBuffer());
    expect(await result).toBe(486);
    expect(await inviteLands(ua, 'sip:other@trunk.test;transport=tcp', [live])).toBe(0);
  });

  it('sends an INVITE answered 503 on to the next SRV target, but not once it rang', async () => {
    const [busy, live] = [await udpPeer(), await udpPeer()];
    const ua = await agent(await dns(twoEdges('udp', busy.port, live.port)), 'udp', 20);
    const uaPort = ua.addresses()[0].port;
    const result = outcome(ua, 'sip:room@trunk.test');
    const refused = (await busy.next(isRequest('INVITE'), 5000)) as SipRequest;
    await busy.send(responseTo(refused, 503, 'busy').toBuffer(), uaPort);
    const retried = (await live.next(isRequest('INVITE'), 5000)) as SipRequest;
    expect(retried.callId).toBe(refused.callId);
    expect(branchOf(retried)).not.toBe(branchOf(refused));
    // The 503's own transaction is ACKed where it came from (§17.1.1.3).
    expect(((await busy.next(isRequest('ACK'))) as SipRequest).callId).toBe(refused.callId);
    await live.send(responseTo(retried, 486, 'live').toBuffer(), uaPort);
    expect(await result).toBe(486);

    // A 503 after 180 Ringing is the call's answer: the callee was reached.
    const ringing = outcome(ua, 'sip:again@trunk.test');
    const invite = (await live.next(isRequest('INVITE'), 5000)) as SipRequest;
    await live.send(responseTo(invite, 180, 'live2').toBuffer(), uaPort);
    await live.send(responseTo(invite, 503, 'live2').toBuffer(), uaPort);
    expect(await ringing).toBe(503);
    expect(invites(busy).filter((m) => m.callId === invite.callId)).toHaveLength(0);
  });

  it('gives up after 16 targets, however many a DNS answer names', async () => {
    const peers = await Promise.all(Array.from({ length: 20 }, () => udpPeer()));
    const records: DnsRecord[] = peers.map((peer) => ({
      type: 'SRV',
      name: '_sip._udp.trunk.test',
      priority: 10,
      weight: 1,
      port: peer.port,
      target: 'edge.trunk.test'
    }));
    const ua = await agent(await dns([...records, address('edge.trunk.test')]), 'udp', 20);
    const uaPort = ua.addresses()[0].port;
    for (const peer of peers) {
      peer
        .next(isRequest('INVITE'), 5000)
        .then((invite) => peer.send(responseTo(invite as SipRequest, 503, 'full').toBuffer(), uaPort))
        .catch(() => undefined);
    }
    expect(await outcome(ua, 'sip:room@trunk.test')).toBe(503);
    expect(peers.filter((peer) => invites(peer).length > 0)).toHaveLength(16);
  });

  it('sends a REGISTER that a target left unanswered on to the next SRV target', async () => {
    const [silent, live] = [await udpPeer(), await udpPeer()];
    const ua = await agent(await dns(twoEdges('udp', silent.port, live.port)), 'udp', 20);
    const registration = ua.register({ registrar: 'sip:trunk.test', aor: 'sip:alice@trunk.test' });
    const register = (await live.next(isRequest('REGISTER'), 5000)) as SipRequest;
    expect(silent.received.filter(isRequest('REGISTER')).length).toBeGreaterThan(1);
    const ok = responseTo(register, 200, 'reg');
    ok.add('Contact', `${register.get('Contact') ?? ''};expires=60`);
    await live.send(ok.toBuffer(), ua.addresses()[0].port);
    await new Promise<void>((resolve) => registration.once('registered', () => resolve()));
    // Closing unregisters, at the live target too.
    const closed = ua.close();
    const unregister = (await live.next(isRequest('REGISTER'), 5000)) as SipRequest;
    await live.send(responseTo(unregister, 200, 'reg').toBuffer(), ua.addresses()[0].port);
    await closed;
  });

  it("registers over the transport the registrar name's NAPTR records name, Via and Contact saying so", async () => {
    const tcpPeer = new TcpListeningTestPeer();
    await tcpPeer.listen();
    closing.push(() => tcpPeer.close());
    const server = await dns([
      naptr(10, 'SIP+D2T', '_sip._tcp.edge.naptr.test'),
      srv('_sip._tcp.edge.naptr.test', tcpPeer.port),
      address('a.naptr.test')
    ]);
    const ua = await agent(server, ['udp', 'tcp']);
    const registration = ua.register({ registrar: 'sip:naptr.test', aor: 'sip:alice@naptr.test' });
    const register = (await tcpPeer.next(isRequest('REGISTER'), 5000)) as SipRequest;
    expect(register.get('Via')).toMatch(/^SIP\/2\.0\/TCP /);
    expect(register.get('Contact')).toMatch(/;transport=tcp>/);
    const ok = responseTo(register, 200, 'reg');
    ok.add('Contact', `${register.get('Contact') ?? ''};expires=60`);
    await tcpPeer.send(ok.toBuffer());
    await new Promise<void>((resolve) => registration.once('registered', () => resolve()));
    const closed = ua.close();
    const unregister = (await tcpPeer.next(isRequest('REGISTER'), 5000)) as SipRequest;
    expect(unregister.get('Via')).toMatch(/^SIP\/2\.0\/TCP /);
    await tcpPeer.send(responseTo(unregister, 200, 'reg').toBuffer());
    await closed;
  });

  /** A UA over TLS alone, whose certificate names `dnsNames` (and 127.0.0.1), trusting `trusts`. */
  async function tlsAgent(
    certificate: TestCertificate,
    trusts: Buffer,
    dnsServers?: string[]
  ): Promise<SipUserAgent> {
    const ua = new SipUserAgent({
      transports: [
        {
          protocol: 'tls',
          host: '127.0.0.1',
          port: 0,
          tls: { cert: certificate.cert, key: certificate.key, ca: trusts }
        }
      ],
      dnsServers
    });
    await ua.start();
    closing.push(() => ua.close());
    return ua;
  }

  const sipsEdge = (port: number): DnsRecord[] => [
    { type: 'SRV', name: '_sips._tcp.trunk.test', priority: 10, weight: 0, port, target: 'edge.trunk.test' },
    address('edge.trunk.test')
  ];

  it.runIf(haveOpenssl)(
    "reaches a sips: target through its _sips._tcp records, checking the SIP domain's certificate",
    async () => {
      const domainCert = makeTestCertificate(['trunk.test']);
      closing.push(() => domainCert.remove());
      const callee = await tlsAgent(domainCert, domainCert.cert);
      const server = await dns(sipsEdge(callee.addresses()[0].port));
      const caller = await tlsAgent(domainCert, domainCert.cert, [server.address]);
      const incoming = new Promise<IncomingInvite>((resolve) => callee.once('invite', resolve));
      const call = caller.invite('sips:room@trunk.test', { body: OFFER });
      call.established.catch(() => undefined);
      closing.push(() => call.cancel());
      const session = await incoming;
      expect(session.protocol).toBe('tls');
      expect(server.questions).toContain('SRV _sips._tcp.trunk.test');
      session.reject(486);
      await expect(call.established).rejects.toMatchObject({ status: 486 });
    }
  );

  it.runIf(haveOpenssl)(
    'refuses a sips: target whose certificate names only its SRV target, not the SIP domain',
    async () => {
      const edgeCert = makeTestCertificate(['edge.trunk.test']);
      closing.push(() => edgeCert.remove());
      const callee = await tlsAgent(edgeCert, edgeCert.cert);
      let invited = false;
      callee.on('invite', () => (invited = true));
      const server = await dns(sipsEdge(callee.addresses()[0].port));
      const caller = await tlsAgent(edgeCert, edgeCert.cert, [server.address]);
      const call = caller.invite('sips:room@trunk.test', { body: OFFER });
      await expect(call.established).rejects.toMatchObject({ status: 503 });
      expect(invited).toBe(false);
    }
  );

  /** An engine looking names up through `server` calls `target`, and the callee (`incoming`) answers. */
  async function expectEngineCallAnswered(
    server: TestDnsServer,
    transports: Array<'udp' | 'tcp'>,
    rtpBase: number,
    target: string,
    incoming: unknown[]
  ): Promise<void> {
    const caller = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports, dnsServers: [server.address] },
      rtp: { minPort: rtpBase, maxPort: rtpBase + 49 },
      logLevel: 'silent'
    });
    await caller.start();
    closing.push(() => caller.stop());
    const channel = caller.createChannel();
    expect(await channel.call(target)).toBe(State.ANSWERED);
    expect(incoming).toHaveLength(1);
    await channel.hangUp();
  }

  it("takes the engine's calls to a name over the transport its NAPTR records name", async () => {
    const callee = await startAnsweringEngine(
      { minPort: 54800, maxPort: 54849 },
      { sip: { host: '127.0.0.1', port: 0, transports: ['udp', 'tcp'] } }
    );
    closing.push(() => callee.engine.stop());
    // Only its TCP port is named: a UDP INVITE sent there would reach nothing.
    const tcpPort = callee.engine.sipAddresses().find((a) => a.protocol === 'tcp')!.port;
    const server = await dns([
      naptr(10, 'SIP+D2T', '_sip._tcp.naptr.test'),
      srv('_sip._tcp.naptr.test', tcpPort),
      address('a.naptr.test')
    ]);
    await expectEngineCallAnswered(server, ['udp', 'tcp'], 54850, 'sip:room@naptr.test', callee.incoming);
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
    await expectEngineCallAnswered(server, ['udp'], 54950, 'sip:room@trunk.test', callee.incoming);
  });
});

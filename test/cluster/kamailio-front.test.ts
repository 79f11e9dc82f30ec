/**
 * Kamailio's dispatcher (the repository's configuration) in front of engines on one host:
 * - it keeps its set of engines to those that take calls: it probes each with OPTIONS, and the
 *   engine answers as it would an INVITE (RFC 3261 §11.2). A dead engine costs at most one caller
 *   one failover, then gets no more calls until it answers probes again; a full engine (503)
 *   gets none while it is full, and the proxy's own answer to OPTIONS says 503 when no engine
 *   behind it takes calls;
 * - a caller's answer to an engine's digest challenge goes to that engine, the only one that
 *   knows its nonce;
 * - an engine that trusts the proxy (access.trustedProxies) counts each caller by the address
 *   the proxy names, so one guesser locks out only itself;
 * - a flood from one address stops at the proxy (pike), and other callers get through;
 * - a phone that speaks only TCP calls through it, and either side's BYE ends the call;
 * - it relays a caller's in-dialog request to an engine or nowhere: by a Route the caller wrote
 *   itself, or an ACK's Request-URI, it relayed anything with a To tag to any host, and the
 *   answers back (an open relay).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, it, expect, afterEach } from 'vitest';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { Kamailio } from '../support/kamailio-dispatcher.js';
import { TonePhone } from '../support/tone-phone.js';
import { hasPeer } from '../support/peers.js';
import { sleep, waitFor } from '../support/wait.js';
import { UdpTestPeer, optionsAnswer, sipText } from '../support/sip-udp-peer.js';
import { responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { countingSocket, sendRtp } from '../support/raw-rtp.js';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { makeTestCertificate } from '../support/tls-certificate.js';
import { State, type Engine } from '../../engine/index.js';

const KAMAILIO_HOST = '127.0.0.13';
/** Where the tests' own OPTIONS to the front come from (not the callers' address). */
const PROBER = '127.0.0.23';
/** Probes every second, so that the tests see several in a few seconds. */
const PING_SECONDS = 1;
/** Kamailio's TLS transport is Debian's kamailio-tls-modules, a package of its own. */
const hasTlsModule = hasPeer('kamailio-tls');

describe.skipIf(!hasPeer('kamailio'))('Kamailio in front of engines', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  async function engine(
    rtpBase: number,
    options: Parameters<typeof startAnsweringEngine>[1] = {}
  ): Promise<Awaited<ReturnType<typeof startAnsweringEngine>>> {
    const started = await startAnsweringEngine({ minPort: rtpBase, maxPort: rtpBase + 99 }, options);
    cleanup.push(() => started.engine.stop());
    return started;
  }

  async function kamailio(engines: number[]): Promise<Kamailio> {
    const k = await Kamailio.start(
      KAMAILIO_HOST,
      engines.map((port) => `127.0.0.1:${port}`),
      4,
      PING_SECONDS
    );
    cleanup.push(() => k.stop());
    return k;
  }

  /** One call through Kamailio, answered (by whichever engine) and hung up. */
  async function callThrough(k: Kamailio, user: string, password?: string, host?: string): Promise<void> {
    const phone = await TonePhone.create({
      toneHz: 440,
      user,
      host,
      auth: password === undefined ? undefined : { username: user, password }
    });
    try {
      await phone.call(k.uri('room'));
    } finally {
      await phone.close();
    }
  }

  /**
   * Asks the front with OPTIONS, four times a second (under its flood limit), until it answers
   * `status` (it follows its engines' probes, once a second).
   */
  async function frontAnswers(k: Kamailio, status: number): Promise<void> {
    for (let i = 0; i < 80; i++) {
      if ((await optionsAnswer(k.port, PROBER, k.host)).status === status) return;
      await sleep(250);
    }
    throw new Error(`the front never answered OPTIONS with ${status}`);
  }

  /** Calls through Kamailio until `engine` takes one; how many calls that took. */
  async function callsUntilTaken(k: Kamailio, taken: () => number, label: string): Promise<number> {
    for (let n = 1; n <= 40; n++) {
      await callThrough(k, `${label}${n}`);
      if (taken() > 0) return n;
      await sleep(500);
    }
    throw new Error(`no call reached ${label} in 40 calls`);
  }

  it('sends no more calls to an engine that stopped answering, and takes it back once it answers probes', async () => {
    const live = await engine(54000);
    const dead = dgram.createSocket('udp4');
    dead.bind(0, '127.0.0.1');
    await once(dead, 'listening');
    const deadPort = dead.address().port;
    const invitesAtDead = new Set<string>();
    let probesAtDead = 0;
    dead.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('OPTIONS ')) probesAtDead++;
      if (text.startsWith('INVITE ')) invitesAtDead.add(/^Call-ID:\s*(\S+)/im.exec(text)?.[1] ?? '');
    });
    const k = await kamailio([live.sipPort, deadPort]);

    for (let i = 0; i < 6; i++) await callThrough(k, `caller${i}`);
    expect(live.incoming).toHaveLength(6);
    // Round-robin alone would have offered it three of the six, each waiting for a timeout.
    expect(invitesAtDead.size).toBeLessThanOrEqual(1);
    expect(probesAtDead).toBeGreaterThan(0);

    // The engine comes back on its address: the probes find it and it gets calls again.
    dead.close();
    const back = await engine(54100, { sip: { host: '127.0.0.1', port: deadPort, transports: ['udp'] } });
    const calls = await callsUntilTaken(k, () => back.incoming.length, 'after');
    console.log(`the engine that came back took a call after ${calls} calls`);
    expect(back.incoming.length).toBeGreaterThan(0);
  }, 90_000);

  it('sends no calls to a full engine while it is full (503 to its probes), answers OPTIONS itself with 503 while no engine has room, and uses the engine again once it has room', async () => {
    const open = await engine(54200);
    const full = await engine(54300, { callLimits: { maxCalls: 1 } });
    const k = await kamailio([open.sipPort, full.sipPort]);
    const refusedAtFull = (e: Engine): number => e.metrics.sipRefusals.calls_total.value;

    // A call straight to the second engine fills it.
    const holder = await TonePhone.create({ toneHz: 440, user: 'holder' });
    cleanup.push(() => holder.close());
    await holder.call(`sip:room@127.0.0.1:${full.sipPort}`);
    expect(full.incoming).toHaveLength(1);

    // Calls spread over several probes: with every probe answered 200, the full engine would be
    // back in the set for each and refuse half of them.
    await sleep(2 * PING_SECONDS * 1000);
    for (let i = 0; i < 6; i++) {
      await callThrough(k, `caller${i}`);
      await sleep(PING_SECONDS * 1000);
    }
    expect(open.incoming).toHaveLength(6);
    expect(full.incoming).toHaveLength(1);
    expect(refusedAtFull(full.engine)).toBeLessThanOrEqual(1);

    // With only the full engine behind it, the front itself answers OPTIONS with 503.
    const alone = await kamailio([full.sipPort]);
    await frontAnswers(alone, 503);
    expect((await optionsAnswer(k.port, PROBER, k.host)).status).toBe(200);

    await holder.hangUp();
    await frontAnswers(alone, 200);
    const calls = await callsUntilTaken(k, () => full.incoming.length - 1, 'after');
    console.log(`the engine with room again took a call after ${calls} calls`);
    expect(full.incoming.length).toBe(2);
  }, 90_000);

  it("sends a caller's answer to a digest challenge to the engine that challenged it", async () => {
    const access = { auth: { realm: 'front.test', credentials: () => ({ password: 'right' }) } };
    const a = await engine(54400, { access });
    const b = await engine(54500, { access });
    const k = await kamailio([a.sipPort, b.sipPort]);
    for (let i = 0; i < 4; i++) await callThrough(k, `member${i}`, 'right');
    // Round-robin still spreads the calls; each answer followed its challenge.
    expect(a.incoming.length + b.incoming.length).toBe(4);
    expect(a.incoming.length).toBeGreaterThan(0);
    expect(b.incoming.length).toBeGreaterThan(0);
    const challenged = (e: Engine): number => e.metrics.sipRefusals.auth_challenged.value;
    expect(challenged(a.engine) + challenged(b.engine)).toBe(4);
    // A wrong password is judged by the engine that knows the nonce: 403, not another challenge.
    await expect(callThrough(k, 'stranger', 'wrong')).rejects.toMatchObject({ status: 403 });
  }, 60_000);

  it('locks out a guesser behind the proxy and no one else, when the engine trusts the proxy', async () => {
    const auth = {
      realm: 'front.test',
      credentials: () => ({ password: 'right' }),
      lockout: { failures: 3, windowSeconds: 60, lockSeconds: 60 }
    };
    const trusting = await engine(54600, { access: { auth, trustedProxies: [KAMAILIO_HOST] } });
    const k = await kamailio([trusting.sipPort]);
    const GUESSER = '127.0.0.21';
    for (let i = 0; i < 4; i++)
      await expect(callThrough(k, 'guess', `wrong${i}`, GUESSER)).rejects.toMatchObject({ status: 403 });
    expect(trusting.engine.metrics.sipAuthLockouts.value).toBe(1);
    // The guesser is locked even with the right password; another caller through the proxy is not.
    await expect(callThrough(k, 'guess', 'right', GUESSER)).rejects.toMatchObject({ status: 403 });
    await callThrough(k, 'member', 'right', '127.0.0.22');
    expect(trusting.incoming).toHaveLength(1);
  }, 60_000);

  it('stops a flood from one address at the proxy, and other callers get through', async () => {
    const access = { auth: { realm: 'front.test', credentials: () => ({ password: 'right' }) } };
    const target = await engine(54700, { access });
    const k = await kamailio([target.sipPort]);
    const flooder = dgram.createSocket('udp4');
    flooder.bind(0, '127.0.0.31');
    await once(flooder, 'listening');
    cleanup.push(async () => flooder.close());
    const RATE = 300;
    let sent = 0;
    const started = performance.now();
    const flood = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * RATE);
      for (; sent < due; sent++) flooder.send(floodInvite(k, flooder.address().port, sent), k.port, k.host);
    }, 10);
    cleanup.push(async () => clearInterval(flood));
    await sleep(1000);
    for (let i = 0; i < 3; i++) await callThrough(k, `member${i}`, 'right', '127.0.0.22');
    await sleep(1000);
    clearInterval(flood);
    expect(target.incoming).toHaveLength(3);
    // Each flood INVITE that reached the engine was challenged; pike let through its first few.
    const challenged = target.engine.metrics.sipRefusals.auth_challenged.value - 3;
    console.log(`flood: ${sent} INVITEs sent, ${challenged} reached the engine`);
    expect(sent).toBeGreaterThan(300);
    expect(challenged).toBeLessThan(sent / 4);
  }, 60_000);

  it('takes a caller that speaks only TCP, and either side can end the call', async () => {
    const target = await engine(54800);
    const k = await kamailio([target.sipPort]);
    const viaTcp = `${k.uri('room')};transport=tcp`;

    const first = await TonePhone.create({ toneHz: 440, user: 'tcpone', transport: 'tcp' });
    cleanup.push(() => first.close());
    await first.call(viaTcp);
    expect(target.incoming).toHaveLength(1);
    await first.hangUp();
    await waitFor(() => target.incoming[0].state === State.IDLE, 10_000);

    const second = await TonePhone.create({ toneHz: 440, user: 'tcptwo', transport: 'tcp' });
    cleanup.push(() => second.close());
    await second.call(viaTcp);
    expect(target.incoming).toHaveLength(2);
    // The engine's BYE reaches the phone over its own connection, through Kamailio.
    await target.incoming[1].hangUp();
    await waitFor(() => second.endedByRemote, 10_000);
  }, 60_000);

  it("carries an engine's pings and BYE to a caller behind NAT, to where its INVITE came from", async () => {
    // The engine trusts the proxy, which says the caller is behind NAT: it pings it in the call.
    const target = await engine(55000, {
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'], natKeepaliveSeconds: 0.3 },
      access: { trustedProxies: [KAMAILIO_HOST] }
    });
    const k = await kamailio([target.sipPort]);
    const phone = await new UdpTestPeer().open();
    cleanup.push(() => phone.close());
    // The phone names its private address, 127.0.0.77:5099 (nothing listens there), in Via and Contact.
    const uri = k.uri('room');
    const head = (method: string, requestUri: string, to: string, extra: string[] = []): string[] => [
      `${method} ${requestUri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.77:5099;branch=z9hG4bKnatfront${method};rport`,
      'Max-Forwards: 70',
      'From: <sip:phone@example.com>;tag=natphone',
      `To: ${to}`,
      'Call-ID: nat-front',
      `CSeq: 1 ${method}`,
      'Contact: <sip:phone@127.0.0.77:5099>',
      ...extra
    ];
    await phone.send(
      sipText([...head('INVITE', uri, `<${uri}>`), 'Content-Type: application/sdp'], testSdp(40_000)),
      k.port,
      k.host
    );
    const ok = (await phone.next((m) => m instanceof SipResponse && m.status >= 200, 10_000)) as SipResponse;
    expect(ok.status).toBe(200);
    // The ACK follows the route set the 200 names (RFC 3261 §12.1.2: Record-Route reversed).
    const routes = ok.getList('Record-Route').reverse();
    expect(routes.length).toBeGreaterThan(0);
    const engineContact = /<([^>]+)>/.exec(ok.get('Contact') ?? '')![1];
    await phone.send(
      sipText(
        head(
          'ACK',
          engineContact,
          ok.get('To')!,
          routes.map((r) => `Route: ${r}`)
        )
      ),
      k.port,
      k.host
    );
    await waitFor(() => target.incoming[0]?.state === State.ANSWERED, 10_000);
    /** The next `method` request the phone gets, answered 200 through the front. */
    const answerNext = async (method: string): Promise<SipRequest> => {
      const request = (await phone.next(
        (m) => m instanceof SipRequest && m.method === method,
        10_000
      )) as SipRequest;
      await phone.send(responseTo(request, 200).toBuffer(), k.port, k.host);
      return request;
    };
    expect((await answerNext('OPTIONS')).callId).toBe('nat-front');
    const hungUp = target.incoming[0].hangUp();
    expect((await answerNext('BYE')).callId).toBe('nat-front');
    await hungUp;
  }, 60_000);

  it("relays a caller's in-dialog request to an engine or nowhere, whatever Route or Request-URI it names", async () => {
    const target = await engine(55300);
    const k = await kamailio([target.sipPort]);
    const [attacker, victim] = await Promise.all([
      new UdpTestPeer().open('127.0.0.1'),
      countingSocket('127.0.0.24')
    ]);
    cleanup.push(
      () => attacker.close(),
      () => victim.close()
    );
    const victimUri = `sip:x@127.0.0.24:${victim.port}`;
    const inDialog = (method: string, requestUri: string, route: string[]): string =>
      sipText([
        `${method} ${requestUri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${attacker.port};branch=z9hG4bKrelay${method};rport`,
        'Max-Forwards: 70',
        'From: <sip:a@example.com>;tag=relayfrom',
        `To: <${victimUri}>;tag=relayto`,
        `Call-ID: open-relay-${method}`,
        `CSeq: 1 ${method}`,
        ...route
      ]);
    const routeToVictim = [`Route: <sip:127.0.0.24:${victim.port};lr>`];
    for (const method of ['BYE', 'MESSAGE', 'INFO']) {
      await attacker.send(inDialog(method, victimUri, routeToVictim), k.port, k.host);
      const answer = (await attacker.next(
        (m) => m instanceof SipResponse && m.callId === `open-relay-${method}`,
        5000
      )) as SipResponse;
      expect(answer.status).toBe(403);
    }
    await attacker.send(inDialog('ACK', victimUri, []), k.port, k.host);
    await attacker.send(inDialog('ACK', victimUri, routeToVictim), k.port, k.host);
    // A call through the front still works, and nothing reached the victim meanwhile.
    await callThrough(k, 'afterrelay');
    expect(victim.received()).toBe(0);
  });

  it('follows a caller behind NAT that changes networks mid-call: its media from there, the BYE to it', async () => {
    const target = await engine(55200, { access: { trustedProxies: [KAMAILIO_HOST] } });
    const k = await kamailio([target.sipPort]);
    const [phone, roamed] = await Promise.all([
      new UdpTestPeer().open('127.0.0.1'),
      new UdpTestPeer().open('127.0.0.2')
    ]);
    const [rtpBefore, rtpAfter] = await Promise.all([
      countingSocket('127.0.0.1'),
      countingSocket('127.0.0.2')
    ]);
    cleanup.push(
      () => phone.close(),
      () => roamed.close(),
      () => rtpBefore.close(),
      () => rtpAfter.close()
    );
    const uri = k.uri('room');
    // The phone names its private address (127.0.0.77, where nothing listens) in Via, Contact and SDP.
    const privateSdp = (version: number): string => testSdp(40_000, version, 'sendrecv', '127.0.0.77');
    const request = (
      method: string,
      requestUri: string,
      to: string,
      seq: number,
      extra: string[] = [],
      body?: string
    ): string =>
      sipText(
        [
          `${method} ${requestUri} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.77:5099;branch=z9hG4bKroam${method}${seq};rport`,
          'Max-Forwards: 70',
          'From: <sip:phone@example.com>;tag=roamphone',
          `To: ${to}`,
          'Call-ID: nat-roam-front',
          `CSeq: ${seq} ${method}`,
          'Contact: <sip:phone@127.0.0.77:5099>',
          ...extra,
          ...(body === undefined ? [] : ['Content-Type: application/sdp'])
        ],
        body
      );
    await phone.send(request('INVITE', uri, `<${uri}>`, 1, [], privateSdp(1)), k.port, k.host);
    const ok = (await phone.next((m) => m instanceof SipResponse && m.status >= 200, 10_000)) as SipResponse;
    expect(ok.status).toBe(200);
    const routes = ok
      .getList('Record-Route')
      .reverse()
      .map((r) => `Route: ${r}`);
    const engineContact = /<([^>]+)>/.exec(ok.get('Contact') ?? '')![1];
    const to = ok.get('To')!;
    await phone.send(request('ACK', engineContact, to, 1, routes), k.port, k.host);
    const channel = target.incoming[0];
    await waitFor(() => channel?.state === State.ANSWERED, 10_000);
    const enginePort = Number(/m=audio (\d+)/.exec(ok.bodyText)![1]);
    await sendRtp(rtpBefore.socket, enginePort, 25, 0);
    await waitFor(() => (channel.rtpStats()?.packetsReceived ?? 0) >= 10, 10_000);

    // On another network now: its re-INVITE and media come from 127.0.0.2, through the front.
    await roamed.send(request('INVITE', engineContact, to, 2, routes, privateSdp(2)), k.port, k.host);
    const answered = (await roamed.next(
      (m) => m instanceof SipResponse && m.status >= 200,
      10_000
    )) as SipResponse;
    expect(answered.status).toBe(200);
    await roamed.send(request('ACK', engineContact, to, 2, routes), k.port, k.host);
    const strangers = channel.rtpStats()!.packetsFromOtherSources;
    const received = channel.rtpStats()!.packetsReceived;
    await sendRtp(rtpAfter.socket, enginePort, 25, 25);
    await waitFor(() => rtpAfter.received() > 0, 10_000);
    expect(channel.rtpStats()!.packetsFromOtherSources).toBe(strangers);
    expect(channel.rtpStats()!.packetsReceived).toBeGreaterThan(received);
    expect(channel.signallingAddress).toBe('127.0.0.2');

    // The engine's BYE goes to the Contact of the re-INVITE, which Kamailio aliased to its new mapping.
    const hungUp = channel.hangUp();
    const bye = (await roamed.next(
      (m) => m instanceof SipRequest && m.method === 'BYE',
      10_000
    )) as SipRequest;
    await roamed.send(responseTo(bye, 200).toBuffer(), k.port, k.host);
    await hungUp;
    expect(phone.received.some((m) => m instanceof SipRequest && m.method === 'BYE')).toBe(false);
  }, 60_000);

  it('takes the media of a caller whose SDP names a private address, from where the proxy says it is', async () => {
    // The engine trusts the proxy: the caller is the address it names, not the proxy.
    const target = await engine(55100, { access: { trustedProxies: [KAMAILIO_HOST] } });
    const k = await kamailio([target.sipPort]);
    const phone = await TonePhone.create({ toneHz: 440, user: 'natmedia', sdpAddress: '127.0.0.77' });
    cleanup.push(() => phone.close());
    await phone.call(k.uri('room'));
    const channel = target.incoming[0];
    expect(channel.signallingAddress).toBe('127.0.0.1');
    // Its RTP comes from 127.0.0.1, neither its SDP's address nor the proxy's: taken, and
    // latched, so the engine's answer goes there too.
    await waitFor(() => (channel.rtpStats()?.packetsReceived ?? 0) > 10, 10_000);
    await waitFor(() => phone.packetsReceived > 5, 10_000);
    expect(channel.rtpStats()?.packetsFromOtherSources).toBe(0);
    await phone.hangUp();
  }, 60_000);

  it.skipIf(!hasTlsModule)(
    'takes a caller over TLS, and either side can end the call',
    async () => {
      const target = await engine(54900);
      const certificate = makeTestCertificate([], [KAMAILIO_HOST]);
      cleanup.push(async () => certificate.remove());
      const k = await Kamailio.start(
        KAMAILIO_HOST,
        [`127.0.0.1:${target.sipPort}`],
        4,
        PING_SECONDS,
        certificate
      );
      cleanup.push(() => k.stop());
      const viaTls = `sip:room@${k.host}:${k.tlsPort};transport=tls`;
      // The phone checks the front's certificate against the test CA (itself).
      const tls = { cert: certificate.cert, key: certificate.key, ca: certificate.cert };

      const first = await TonePhone.create({ toneHz: 440, user: 'tlsone', transport: 'tls', tls });
      cleanup.push(() => first.close());
      await first.call(viaTls);
      expect(target.incoming).toHaveLength(1);
      await waitFor(() => first.packetsReceived > 5, 10_000);
      await first.hangUp();
      await waitFor(() => target.incoming[0].state === State.IDLE, 10_000);

      const second = await TonePhone.create({ toneHz: 440, user: 'tlstwo', transport: 'tls', tls });
      cleanup.push(() => second.close());
      await second.call(viaTls);
      expect(target.incoming).toHaveLength(2);
      // The engine's BYE reaches the phone over its own TLS connection, through Kamailio.
      await target.incoming[1].hangUp();
      await waitFor(() => second.endedByRemote, 10_000);
    },
    60_000
  );
});

function floodInvite(k: Kamailio, port: number, n: number): string {
  return [
    `INVITE ${k.uri('room')} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.31:${port};branch=z9hG4bK-flood-${n};rport`,
    'Max-Forwards: 70',
    `From: <sip:flood@127.0.0.31>;tag=f${n}`,
    `To: <${k.uri('room')}>`,
    `Call-ID: flood-${n}@127.0.0.31`,
    'CSeq: 1 INVITE',
    `Contact: <sip:flood@127.0.0.31:${port}>`,
    'Content-Length: 0',
    '',
    ''
  ].join('\r\n');
}

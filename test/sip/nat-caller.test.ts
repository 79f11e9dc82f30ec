/**
 * A phone behind NAT calls in naming its private address in Via and Contact; the engine's requests
 * in that call (here its BYE when the call is hung up) went to that address and were lost. Now they
 * go where the INVITE came from (or the phone's latest request in sequence, when its NAT mapping
 * moves), over UDP, and over the INVITE's own connection (or the one the phone connected again on)
 * over TCP, which is not closed as idle while the call lasts; over UDP an OPTIONS now and then
 * keeps the NAT's mapping open. A call through a proxy (two Vias) still goes by its Contact. A call
 * the engine places over TCP keeps its connection too: from an edge host behind NAT it is the only
 * way the callee's BYE can come. The "private" address is 127.0.0.77, where nothing listens: what
 * the old engine sent there stayed on this host.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { State, type Engine, type UASCallChannel } from '../../engine/index.js';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { testSdp } from '../support/sip-sdp.js';
import { responseTo } from '../support/sip-messages.js';
import { countingSocket, sendRtp } from '../support/raw-rtp.js';
import { sleep, waitFor } from '../support/wait.js';
import {
  TcpListeningTestPeer,
  TcpTestPeer,
  UdpTestPeer,
  sipText,
  type SipTestPeer
} from '../support/sip-udp-peer.js';

const PRIVATE = '127.0.0.77:5099';
const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

let engine: Engine | undefined;
const peers: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const p of peers.splice(0)) await p.close();
  await engine?.stop();
  engine = undefined;
});

async function start(sip: { idleTimeoutMs?: number; natKeepaliveSeconds?: number } = {}): Promise<{
  udpPort: number;
  tcpPort: number;
  hangUpLast: () => Promise<unknown>;
  last: () => UASCallChannel;
}> {
  const started = await startAnsweringEngine(
    { minPort: rtpBase, maxPort: rtpBase + 99 },
    {
      sip: {
        host: '127.0.0.1',
        port: 0,
        transports: ['udp', 'tcp'],
        connections: sip.idleTimeoutMs === undefined ? undefined : { idleTimeoutMs: sip.idleTimeoutMs },
        natKeepaliveSeconds: sip.natKeepaliveSeconds
      }
    }
  );
  engine = started.engine;
  const port = (protocol: string): number =>
    engine!.sipAddresses().find((a) => a.protocol === protocol)!.port;
  const last = (): UASCallChannel => started.incoming[started.incoming.length - 1];
  return { udpPort: port('udp'), tcpPort: port('tcp'), hangUpLast: () => last().hangUp(), last };
}

/** INVITE from `vias` (top first) naming `contact`; ACKs the 200 and returns it. */
async function call(
  peer: SipTestPeer,
  send: (text: string) => Promise<void>,
  target: string,
  vias: string[],
  contact: string,
  callId: string,
  sdp = testSdp(40_000)
): Promise<SipResponse> {
  const head = (method: string, to: string): string[] => [
    `${method} ${target} SIP/2.0`,
    ...vias.map((v) => `Via: ${v}`),
    'Max-Forwards: 70',
    `From: <sip:phone@example.com>;tag=${callId}`,
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    `Contact: <${contact}>`
  ];
  await send(sipText([...head('INVITE', `<${target}>`), 'Content-Type: application/sdp'], sdp));
  const ok = (await peer.next((m) => m instanceof SipResponse && m.status >= 200, 10_000)) as SipResponse;
  expect(ok.status).toBe(200);
  await send(sipText(head('ACK', ok.get('To')!).map((l) => l.replace(/branch=\w+/, 'branch=z9hG4bKack'))));
  return ok;
}

/** A call from a phone behind NAT over UDP: its Via and Contact name PRIVATE, not where it sends from. */
function callFromBehindNat(
  phone: UdpTestPeer,
  udpPort: number,
  callId: string,
  sdp?: string
): Promise<SipResponse> {
  return call(
    phone,
    (text) => phone.send(text, udpPort),
    `sip:room@127.0.0.1:${udpPort}`,
    [`SIP/2.0/UDP ${PRIVATE};branch=z9hG4bK${callId.replace(/\W/g, '')};rport`],
    `sip:phone@${PRIVATE}`,
    callId,
    sdp
  );
}

/** The same over TCP, on the phone's connection `phone`. */
function callOverTcpFromBehindNat(phone: TcpTestPeer, tcpPort: number, callId: string): Promise<SipResponse> {
  return call(
    phone,
    (text) => phone.send(text),
    `sip:room@127.0.0.1:${tcpPort};transport=tcp`,
    [`SIP/2.0/TCP ${PRIVATE};branch=z9hG4bK${callId.replace(/\W/g, '')};rport`],
    `sip:phone@${PRIVATE};transport=tcp`,
    callId
  );
}

const isBye = (m: unknown): boolean => m instanceof SipRequest && m.method === 'BYE';

/**
 * A request of the phone's in the call `ok` answered, sent from behind its NAT (its Via names
 * PRIVATE). With an `sdp` it is an offer, and names its Contact as an INVITE does; without, it
 * has none, as an OPTIONS or BYE may not. Over UDP unless `transport` says TCP.
 */
function phoneInDialog(
  method: string,
  enginePort: number,
  ok: SipResponse,
  callId: string,
  seq: number,
  branch: string,
  sdp?: string,
  transport: 'UDP' | 'TCP' = 'UDP'
): string {
  return sipText(
    [
      `${method} sip:uasmedia@127.0.0.1:${enginePort} SIP/2.0`,
      `Via: SIP/2.0/${transport} ${PRIVATE};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:phone@example.com>;tag=${callId}`,
      `To: ${ok.get('To')}`,
      `Call-ID: ${callId}`,
      `CSeq: ${seq} ${method}`,
      ...(sdp === undefined ? [] : [`Contact: <sip:phone@${PRIVATE}>`, 'Content-Type: application/sdp'])
    ],
    sdp
  );
}

describe('a caller behind NAT', () => {
  it('over UDP gets the BYE where its INVITE came from, not at its private Contact', async () => {
    const { udpPort, hangUpLast } = await start();
    const phone = await new UdpTestPeer().open();
    peers.push(phone);
    await callFromBehindNat(phone, udpPort, 'nat-udp');
    const hungUp = hangUpLast();
    const bye = (await phone.next(isBye, 10_000)) as SipRequest;
    // The Request-URI stays the phone's Contact: only where it was sent changed.
    expect(bye.uri).toBe(`sip:phone@${PRIVATE}`);
    await phone.send(responseTo(bye, 200).toBuffer(), udpPort);
    await hungUp;
  });

  it('over UDP from a new mapping mid-call: the BYE follows it there, and a replayed old request cannot move it', async () => {
    const { udpPort, hangUpLast } = await start();
    const [phone, rebound, replayer] = await Promise.all([1, 2, 3].map(() => new UdpTestPeer().open()));
    peers.push(phone, rebound, replayer);
    const ok = await callFromBehindNat(phone, udpPort, 'nat-move');
    const options = (seq: number, branch: string): string =>
      phoneInDialog('OPTIONS', udpPort, ok, 'nat-move', seq, branch);
    const answer = async (peer: UdpTestPeer): Promise<number> =>
      ((await peer.next((m) => m instanceof SipResponse, 10_000)) as SipResponse).status;
    // The phone's router gave it a new port: its next request comes from there.
    await rebound.send(options(2, 'z9hG4bKmoved'), udpPort);
    expect(await answer(rebound)).toBe(200);
    // That request replayed from a third port: out of sequence, refused, and the dialog stays.
    await replayer.send(options(2, 'z9hG4bKreplay'), udpPort);
    expect(await answer(replayer)).toBe(500);
    const hungUp = hangUpLast();
    const bye = (await rebound.next(isBye, 10_000)) as SipRequest;
    expect(bye.callId).toBe('nat-move');
    await rebound.send(responseTo(bye, 200).toBuffer(), udpPort);
    await hungUp;
    expect(phone.received.filter(isBye)).toEqual([]);
    expect(replayer.received.filter(isBye)).toEqual([]);
  });

  it('that changes networks mid-call (a re-INVITE from a new address): its media is taken from there and the BYE goes there', async () => {
    const { udpPort, hangUpLast, last } = await start();
    const [phone, roamed] = await Promise.all([
      new UdpTestPeer().open('127.0.0.1'),
      new UdpTestPeer().open('127.0.0.2')
    ]);
    peers.push(phone, roamed);
    const [rtpBefore, rtpAfter] = await Promise.all([
      countingSocket('127.0.0.1'),
      countingSocket('127.0.0.2')
    ]);
    peers.push(rtpBefore, rtpAfter);
    const privateSdp = (version: number): string => testSdp(40_000, version, 'sendrecv', '127.0.0.77');
    const ok = await callFromBehindNat(phone, udpPort, 'nat-roam', privateSdp(1));
    const enginePort = Number(/m=audio (\d+)/.exec(ok.bodyText)![1]);
    await sendRtp(rtpBefore.socket, enginePort, 25, 0);
    await waitFor(() => (last().rtpStats()?.packetsReceived ?? 0) >= 10, 10_000);
    expect(rtpBefore.received()).toBeGreaterThan(0);

    // The phone is on another network now: its re-INVITE and its media come from 127.0.0.2.
    const reinvite = (method: string, branch: string, sdp?: string): string =>
      phoneInDialog(method, udpPort, ok, 'nat-roam', 2, branch, sdp);
    await roamed.send(reinvite('INVITE', 'z9hG4bKroam2', privateSdp(2)), udpPort);
    const answered = (await roamed.next(
      (m) => m instanceof SipResponse && m.status >= 200,
      10_000
    )) as SipResponse;
    expect(answered.status).toBe(200);
    await roamed.send(reinvite('ACK', 'z9hG4bKroam2ack'), udpPort);
    const strangersBefore = last().rtpStats()!.packetsFromOtherSources;
    const receivedBefore = last().rtpStats()!.packetsReceived;
    await sendRtp(rtpAfter.socket, enginePort, 25, 25);
    await waitFor(() => rtpAfter.received() > 0, 10_000);
    expect(last().rtpStats()!.packetsFromOtherSources).toBe(strangersBefore);
    expect(last().rtpStats()!.packetsReceived).toBeGreaterThan(receivedBefore);
    expect(last().signallingAddress).toBe('127.0.0.2');

    const hungUp = hangUpLast();
    const bye = (await roamed.next(isBye, 10_000)) as SipRequest;
    await roamed.send(responseTo(bye, 200).toBuffer(), udpPort);
    await hungUp;
    expect(phone.received.filter(isBye)).toEqual([]);
  });

  it('over UDP is sent no RTP at the private address its SDP names: its audio goes where its RTP comes from, once that latches', async () => {
    const { udpPort, last } = await start();
    const phone = await new UdpTestPeer().open('127.0.0.1');
    peers.push(phone);
    const [privateRtp, publicRtp, otherRtp] = await Promise.all([
      countingSocket('127.0.0.77'),
      countingSocket('127.0.0.1'),
      countingSocket('127.0.0.88')
    ]);
    peers.push(privateRtp, publicRtp, otherRtp);
    const target = `sip:room@127.0.0.1:${udpPort}`;
    const ok = await callFromBehindNat(
      phone,
      udpPort,
      'nat-comedia',
      testSdp(privateRtp.port, 1, 'sendrecv', '127.0.0.77')
    );
    const natted = last();

    // A caller that is not behind NAT (its Via names where it sends from), whose SDP names
    // another of its hosts, is sent RTP there at once: the control for the wait above.
    const ok2 = await call(
      phone,
      (text) => phone.send(text, udpPort),
      target,
      ['SIP/2.0/UDP 127.0.0.1:' + phone.port + ';branch=z9hG4bKmultihomed'],
      `sip:phone@127.0.0.1:${phone.port}`,
      'multi-homed',
      testSdp(otherRtp.port, 1, 'sendrecv', '127.0.0.88')
    );
    expect(ok2.status).toBe(200);
    await waitFor(() => otherRtp.received() >= 10, 10_000);
    expect(privateRtp.received(), "nothing sent to the NATed caller's private address").toBe(0);
    expect(publicRtp.received()).toBe(0);

    const enginePort = Number(/m=audio (\d+)/.exec(ok.bodyText)![1]);
    await sendRtp(publicRtp.socket, enginePort, 25, 0);
    await waitFor(() => publicRtp.received() > 0, 10_000);
    expect(natted.rtpStats()!.packetsReceived).toBeGreaterThan(0);
    expect(privateRtp.received()).toBe(0);
  });

  it('over TCP gets the BYE over the connection its INVITE came on', async () => {
    const { tcpPort, hangUpLast } = await start();
    const phone = await new TcpTestPeer().connect(tcpPort);
    peers.push(phone);
    await callOverTcpFromBehindNat(phone, tcpPort, 'nat-tcp');
    const hungUp = hangUpLast();
    const bye = (await phone.next(isBye, 10_000)) as SipRequest;
    expect(bye.callId).toBe('nat-tcp');
    await phone.send(responseTo(bye, 200).toBuffer());
    await hungUp;
  });

  it('over TCP that connects again mid-call (its NAT dropped the connection): the new connection is kept through a silent call, and the BYE goes over it', async () => {
    // The connection idle timeout is 1 s here: after the phone's OPTIONS the call is silent for 2.5 s.
    const { tcpPort, hangUpLast } = await start({ idleTimeoutMs: 1000 });
    const phone = await new TcpTestPeer().connect(tcpPort);
    peers.push(phone);
    const ok = await callOverTcpFromBehindNat(phone, tcpPort, 'nat-tcp-again');
    await phone.close();
    const again = await new TcpTestPeer().connect(tcpPort);
    peers.push(again);
    await again.send(
      phoneInDialog('OPTIONS', tcpPort, ok, 'nat-tcp-again', 2, 'z9hG4bKagain', undefined, 'TCP')
    );
    const answer = (await again.next((m) => m instanceof SipResponse, 10_000)) as SipResponse;
    expect(answer.status).toBe(200);
    let closedDuringCall = false;
    void again.closed.then(() => (closedDuringCall = true));
    await sleep(2500);
    expect(closedDuringCall).toBe(false);
    const hungUp = hangUpLast();
    const bye = (await again.next(isBye, 10_000)) as SipRequest;
    expect(bye.callId).toBe('nat-tcp-again');
    await again.send(responseTo(bye, 200).toBuffer());
    await hungUp;
  });

  it('over TCP keeps its connection through a silent call: no idle close while the call lasts', async () => {
    // The connection idle timeout is 1 s here: the call sends nothing for 2.5 s, then ends.
    const { tcpPort, hangUpLast } = await start({ idleTimeoutMs: 1000 });
    const phone = await new TcpTestPeer().connect(tcpPort);
    peers.push(phone);
    let ending = false;
    let closedAt: 'during the call' | 'after it' | undefined;
    void phone.closed.then(() => (closedAt ??= ending ? 'after it' : 'during the call'));
    await callOverTcpFromBehindNat(phone, tcpPort, 'nat-idle');
    await sleep(2500);
    expect(closedAt).toBeUndefined();
    ending = true;
    const hungUp = hangUpLast();
    const bye = (await phone.next(isBye, 10_000)) as SipRequest;
    await phone.send(responseTo(bye, 200).toBuffer());
    await hungUp;
    // The call over, the connection is idle like any other.
    await phone.closed;
    expect(closedAt).toBe('after it');
  });

  it('over UDP is sent an OPTIONS in its call now and then, and the call ends when it answers 481', async () => {
    const { udpPort, last } = await start({ natKeepaliveSeconds: 0.2 });
    const phone = await new UdpTestPeer().open();
    peers.push(phone);
    const ok = await callFromBehindNat(phone, udpPort, 'nat-keepalive');
    const isOptions = (m: unknown): boolean => m instanceof SipRequest && m.method === 'OPTIONS';
    const first = (await phone.next(isOptions, 10_000)) as SipRequest;
    // In the call's dialog: its Call-ID, our tag as From, the phone's as To.
    expect(first.callId).toBe('nat-keepalive');
    expect(first.fromTag).toBe(ok.toTag);
    expect(first.uri).toBe(`sip:phone@${PRIVATE}`);
    await phone.send(responseTo(first, 200, 'nat-keepalive').toBuffer(), udpPort);
    const second = (await phone.next(isOptions, 10_000)) as SipRequest;
    expect(second.cseq.seq).toBeGreaterThan(first.cseq.seq);
    expect(last().state).toBe(State.ANSWERED);
    // The phone has forgotten the call.
    await phone.send(responseTo(second, 481, 'nat-keepalive').toBuffer(), udpPort);
    await waitFor(() => last().state === State.IDLE, 10_000);
    expect(phone.received.some(isBye)).toBe(false);
  });

  it('through a proxy (two Vias) gets the BYE at its Contact, not at the proxy', async () => {
    const { udpPort, hangUpLast } = await start();
    const [proxy, phone] = [await new UdpTestPeer().open(), await new UdpTestPeer().open()];
    peers.push(proxy, phone);
    await call(
      proxy,
      (text) => proxy.send(text, udpPort),
      `sip:room@127.0.0.1:${udpPort}`,
      [
        `SIP/2.0/UDP 127.0.0.1:${proxy.port};branch=z9hG4bKproxy`,
        `SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bKphone;received=127.0.0.1`
      ],
      `sip:phone@127.0.0.1:${phone.port}`,
      'via-proxy'
    );
    const hungUp = hangUpLast();
    const bye = (await phone.next(isBye, 10_000)) as SipRequest;
    expect(bye.callId).toBe('via-proxy');
    await phone.send(responseTo(bye, 200).toBuffer(), udpPort);
    await hungUp;
    expect(proxy.received.some(isBye)).toBe(false);
  });
});

describe('a call the engine places over TCP', () => {
  it('keeps its connection through a silent call, and the callee can end it over that connection', async () => {
    await start({ idleTimeoutMs: 1000 });
    const callee = await new TcpListeningTestPeer().listen();
    peers.push(callee);
    const channel = engine!.createChannel();
    const answered = channel.call(`sip:callee@127.0.0.1:${callee.port};transport=tcp`);
    const invite = (await callee.next(
      (m) => m instanceof SipRequest && m.method === 'INVITE',
      10_000
    )) as SipRequest;
    const ok = responseTo(invite, 200, 'callee');
    ok.add('Contact', `<sip:callee@127.0.0.1:${callee.port};transport=tcp>`);
    ok.add('Content-Type', 'application/sdp');
    ok.body = Buffer.from(testSdp(40_000));
    await callee.send(ok.toBuffer());
    expect(await answered).toBe(State.ANSWERED);
    await callee.next((m) => m instanceof SipRequest && m.method === 'ACK', 10_000);
    // The idle timeout is 1 s; the call is silent for 2.5 s and its connection stays.
    await sleep(2500);
    expect(callee.connectionCount).toBe(1);
    // The callee hangs up over the connection the engine opened.
    const bye = [
      `BYE sip:uasmedia@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/TCP 127.0.0.1:${callee.port};branch=z9hG4bKcalleebye`,
      'Max-Forwards: 70',
      `From: ${ok.get('To')}`,
      `To: ${invite.get('From')}`,
      `Call-ID: ${invite.callId}`,
      'CSeq: 1 BYE'
    ];
    await callee.send(sipText(bye));
    await waitFor(() => channel.state === State.IDLE, 10_000);
    // The call over, the connection is idle like any other.
    await waitFor(() => callee.connectionCount === 0, 10_000);
  });
});

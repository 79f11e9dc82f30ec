/**
 * The engine's door over real sockets on loopback: a denied SIP source gets 403 (or silence)
 * and takes nothing, a denied RTP source's packets are dropped and counted, and digest
 * authentication challenges, admits, refuses a wrong password and a replayed nonce count.
 * 127.0.0.2 and 127.0.0.3 are other loopback sources; they bind without any set-up.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { computeAuthorization, selectChallenge } from '../../sip/auth/digest.js';
import type { SipResponse } from '../../sip/message/message.js';
import { TcpTestPeer, UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;
let engine: Engine;
let silentEngine: Engine;
let port: number;
let silentPort: number;
const incoming: UASCallChannel[] = [];
const phones: TonePhone[] = [];
const peers: UdpTestPeer[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: rtpBase, maxPort: rtpBase + 49 },
    access: {
      sip: { deny: ['127.0.0.2/32'] },
      rtp: { deny: ['127.0.0.3'] },
      auth: {
        realm: 'uasmedia.test',
        // SHA-256 preferred (RFC 8760): the test phones use the project's UAC, which picks the topmost it supports.
        algorithms: ['SHA-256', 'MD5'],
        // Rooms whose name starts with "secure" need credentials; others stay open.
        requiredFor: (request) => request.uri.startsWith('sip:secure'),
        credentials: async (_realm, username) =>
          username === 'alice' ? { password: 'wonderland' } : undefined
      }
    },
    overloadGuard: false
  });
  engine.on('call', (channel) => {
    incoming.push(channel);
    void (async () => {
      await channel.ring();
      // "ringonly" calls stay ringing: a raw peer that cannot do media sees 180 and no more.
      if (!channel.requestUri?.includes('ringonly')) await channel.answer();
    })().catch(() => undefined);
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
  silentEngine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp', 'tcp'] },
    rtp: { minPort: rtpBase + 50, maxPort: rtpBase + 99 },
    access: { sip: { allow: ['127.0.0.1'], refuse: 'silent' } },
    overloadGuard: false
  });
  await silentEngine.start();
  silentPort = silentEngine.sipAddresses()[0].port;
});

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await Promise.all(incoming.splice(0).map((c) => c.hangUp().catch(() => undefined)));
});

afterAll(async () => {
  await engine?.stop();
  await silentEngine?.stop();
});

async function peer(host = '127.0.0.1'): Promise<UdpTestPeer> {
  const p = await new UdpTestPeer().open(host);
  peers.push(p);
  return p;
}

async function phone(options: Parameters<typeof TonePhone.create>[0]): Promise<TonePhone> {
  const p = await TonePhone.create(options);
  phones.push(p);
  return p;
}

let seq = 0;
function inviteText(
  from: UdpTestPeer,
  host: string,
  target: string,
  options: { callId?: string; cseq?: number; authorization?: string } = {}
): string {
  seq++;
  return sipText([
    `INVITE ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${host}:${from.port};branch=z9hG4bK-door-${seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:tester@${host}>;tag=t${seq}`,
    `To: <${target}>`,
    `Call-ID: ${options.callId ?? `door-${seq}@${host}`}`,
    `CSeq: ${options.cseq ?? 1} INVITE`,
    `Contact: <sip:tester@${host}:${from.port}>`,
    ...(options.authorization ? [`Authorization: ${options.authorization}`] : [])
  ]);
}

function optionsText(from: UdpTestPeer, host: string, target: string): string {
  seq++;
  return sipText([
    `OPTIONS ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${host}:${from.port};branch=z9hG4bK-door-${seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:tester@${host}>;tag=o${seq}`,
    `To: <${target}>`,
    `Call-ID: door-options-${seq}@${host}`,
    'CSeq: 1 OPTIONS'
  ]);
}

const isFinal = (m: unknown): boolean => (m as SipResponse).status >= 200;

describe('source lists', () => {
  it('answers 403 to an INVITE from a denied source, and creates no channel and takes no port', async () => {
    const stranger = await peer('127.0.0.2');
    const refusedBefore = engine.metrics.sipRefusals.source_denied.value;
    await stranger.send(inviteText(stranger, '127.0.0.2', `sip:room1@127.0.0.1:${port}`), port);
    const response = (await stranger.next(isFinal, 5000)) as SipResponse;
    expect(response.status).toBe(403);
    expect(stranger.received.some((m) => (m as SipResponse).status === 100)).toBe(false);
    expect(incoming).toHaveLength(0);
    expect(engine.activeChannels()).toHaveLength(0);
    expect(engine.rtpPortsInUse).toBe(0);
    expect(engine.metrics.sipRefusals.source_denied.value).toBe(refusedBefore + 1);
    expect(await engine.metrics.metrics()).toContain(
      `uasmedia_sip_refusals_total{reason="source_denied"} ${refusedBefore + 1}`
    );
    // Everyone else is still served.
    const friend = await peer('127.0.0.1');
    await friend.send(optionsText(friend, '127.0.0.1', `sip:127.0.0.1:${port}`), port);
    expect(((await friend.next(isFinal, 5000)) as SipResponse).status).toBe(200);
  });

  it('answers nothing at all to a refused source when configured silent, while others get answers', async () => {
    const stranger = await peer('127.0.0.2');
    await stranger.send(inviteText(stranger, '127.0.0.2', `sip:room1@127.0.0.1:${silentPort}`), silentPort);
    await stranger.send(optionsText(stranger, '127.0.0.2', `sip:127.0.0.1:${silentPort}`), silentPort);
    await waitFor(() => silentEngine.metrics.sipRefusals.source_denied.value === 2, 5000);
    const friend = await peer('127.0.0.1');
    await friend.send(optionsText(friend, '127.0.0.1', `sip:127.0.0.1:${silentPort}`), silentPort);
    expect(((await friend.next(isFinal, 5000)) as SipResponse).status).toBe(200);
    // The friend's answer left after the stranger's datagrams were handled: none came back to it.
    expect(stranger.received).toHaveLength(0);
    expect(silentEngine.activeChannels()).toHaveLength(0);
    expect(silentEngine.rtpPortsInUse).toBe(0);
  });

  it('closes a TCP connection from a silently refused source at once, unanswered', async () => {
    const tcpPort = silentEngine.sipAddresses().find((a) => a.protocol === 'tcp')!.port;
    const socket = net.connect({ host: '127.0.0.1', port: tcpPort, localAddress: '127.0.0.2' });
    let received = 0;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.on('error', () => undefined);
    await once(socket, 'close');
    expect(received).toBe(0);
    // An allowed source still talks over TCP.
    const friend = await new TcpTestPeer().connect(tcpPort);
    try {
      await friend.send(
        sipText([
          `OPTIONS sip:127.0.0.1:${tcpPort};transport=tcp SIP/2.0`,
          `Via: SIP/2.0/TCP 127.0.0.1:${friend.localPort};branch=z9hG4bK-door-tcp`,
          'Max-Forwards: 70',
          'From: <sip:tester@127.0.0.1>;tag=tcp1',
          `To: <sip:127.0.0.1:${tcpPort}>`,
          'Call-ID: door-tcp@127.0.0.1',
          'CSeq: 1 OPTIONS'
        ])
      );
      expect(((await friend.next(isFinal, 5000)) as SipResponse).status).toBe(200);
    } finally {
      friend.close();
    }
  });

  it("drops and counts RTP from a denied source sent to a live call's port; the call keeps its peer", async () => {
    const caller = await phone({ toneHz: 440 });
    await caller.call(`sip:room2@127.0.0.1:${port}`);
    const channel = incoming[incoming.length - 1];
    await waitFor(() => (channel.rtpStats()?.packetsReceived ?? 0) > 10, 5000);
    const remote = caller.remoteRtp!;
    const stranger = dgram.createSocket('udp4');
    stranger.bind(0, '127.0.0.3');
    await once(stranger, 'listening');
    try {
      const before = engine.metrics.rtpRefusedSource.value;
      const packet = Buffer.alloc(172);
      packet[0] = 0x80;
      for (let i = 0; i < 20; i++) {
        packet.writeUInt16BE(i, 2);
        stranger.send(packet, remote.port, remote.address);
      }
      await waitFor(() => engine.metrics.rtpRefusedSource.value >= before + 20, 5000);
      const stats = channel.rtpStats()!;
      expect(stats.packetsRefusedSource).toBe(20);
      expect(stats.remoteAddress).toBe('127.0.0.1');
      expect(stats.remotePort).toBe(caller.rtpPort);
      expect(channel.state).toBe(State.ANSWERED);
    } finally {
      stranger.close();
    }
  });
});

describe('digest authentication of incoming calls', () => {
  it('challenges a caller with 401, then answers it once it sends the right password', async () => {
    const challengedBefore = engine.metrics.sipRefusals.auth_challenged.value;
    const caller = await phone({
      toneHz: 440,
      user: 'alice',
      auth: { username: 'alice', password: 'wonderland' }
    });
    await caller.call(`sip:secure1@127.0.0.1:${port}`);
    expect(engine.metrics.sipRefusals.auth_challenged.value).toBe(challengedBefore + 1);
    await waitFor(() => incoming[incoming.length - 1]?.state === State.ANSWERED, 5000);
  });

  it('refuses a wrong password with 403 and creates no channel', async () => {
    const caller = await phone({
      toneHz: 440,
      user: 'alice',
      auth: { username: 'alice', password: 'looking-glass' }
    });
    const failedBefore = engine.metrics.sipRefusals.auth_failed.value;
    await expect(caller.call(`sip:secure2@127.0.0.1:${port}`)).rejects.toMatchObject({ status: 403 });
    expect(engine.metrics.sipRefusals.auth_failed.value).toBe(failedBefore + 1);
    expect(incoming).toHaveLength(0);
    expect(engine.rtpPortsInUse).toBe(0);
  });

  it('admits a nonce once per nonce count and challenges a replay of the same credentials', async () => {
    const me = await peer('127.0.0.1');
    const target = `sip:secureringonly@127.0.0.1:${port}`;
    await me.send(inviteText(me, '127.0.0.1', target, { callId: 'replay-1@test' }), port);
    const challenge = (await me.next(isFinal, 5000)) as SipResponse;
    expect(challenge.status).toBe(401);
    const values = challenge.getAll('WWW-Authenticate');
    expect(values.map((v) => selectChallenge([v]).algorithm)).toEqual(['SHA-256', 'MD5']);
    const authorization = computeAuthorization(
      selectChallenge(values),
      { username: 'alice', password: 'wonderland' },
      { method: 'INVITE', uri: target },
      1
    );

    await me.send(
      inviteText(me, '127.0.0.1', target, { callId: 'replay-1@test', cseq: 2, authorization }),
      port
    );
    expect(((await me.next((m) => (m as SipResponse).status === 180, 5000)) as SipResponse).status).toBe(180);
    await waitFor(() => incoming.length === 1);

    // The same Authorization (same nonce, same nc) on a new call: a replay.
    const replayedBefore = engine.metrics.sipRefusals.auth_replayed.value;
    await me.send(inviteText(me, '127.0.0.1', target, { callId: 'replay-2@test', authorization }), port);
    const refused = (await me.next(
      (m) => isFinal(m) && (m as SipResponse).callId === 'replay-2@test',
      5000
    )) as SipResponse;
    expect(refused.status).toBe(401);
    expect(refused.getAll('WWW-Authenticate')).toHaveLength(2);
    expect(engine.metrics.sipRefusals.auth_replayed.value).toBe(replayedBefore + 1);
    expect(incoming).toHaveLength(1);

    // The next nonce count is fine.
    const next = computeAuthorization(
      selectChallenge(values),
      { username: 'alice', password: 'wonderland' },
      { method: 'INVITE', uri: target },
      2
    );
    await me.send(
      inviteText(me, '127.0.0.1', target, { callId: 'replay-3@test', authorization: next }),
      port
    );
    await me.next(
      (m) => (m as SipResponse).status === 180 && (m as SipResponse).callId === 'replay-3@test',
      5000
    );
    await waitFor(() => incoming.length === 2);
  });

  it('leaves rooms without a PIN open: no challenge', async () => {
    const challengedBefore = engine.metrics.sipRefusals.auth_challenged.value;
    const caller = await phone({ toneHz: 440 });
    await caller.call(`sip:open1@127.0.0.1:${port}`);
    expect(engine.metrics.sipRefusals.auth_challenged.value).toBe(challengedBefore);
  });
});

describe('a CANCEL while the credentials are being looked up', () => {
  it('answers 487, creates no channel, and frees the call ceiling', async () => {
    let release: (() => void) | undefined;
    let lookups = 0;
    const slow = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: rtpBase + 50, maxPort: rtpBase + 99 },
      callLimits: { maxCalls: 1 },
      access: {
        auth: {
          realm: 'slow.test',
          credentials: () => {
            lookups++;
            return new Promise((resolve) => (release = () => resolve({ password: 'pw' })));
          }
        }
      }
    });
    const taken: UASCallChannel[] = [];
    slow.on('call', (channel) => taken.push(channel));
    await slow.start();
    const slowPort = slow.sipAddresses()[0].port;
    try {
      const me = await peer('127.0.0.1');
      const target = `sip:room9@127.0.0.1:${slowPort}`;
      await me.send(inviteText(me, '127.0.0.1', target, { callId: 'cancel-1@test' }), slowPort);
      const challenge = (await me.next(isFinal, 5000)) as SipResponse;
      const authorization = computeAuthorization(
        selectChallenge(challenge.getAll('WWW-Authenticate')),
        { username: 'u', password: 'pw' },
        { method: 'INVITE', uri: target },
        1
      );
      const invite = inviteText(me, '127.0.0.1', target, { callId: 'cancel-1@test', cseq: 2, authorization });
      await me.send(invite, slowPort);
      await waitFor(() => release !== undefined, 5000);
      const via = /Via: [^\r]*/.exec(invite)![0];
      await me.send(
        sipText([
          `CANCEL ${target} SIP/2.0`,
          via,
          'Max-Forwards: 70',
          /From: [^\r]*/.exec(invite)![0],
          `To: <${target}>`,
          'Call-ID: cancel-1@test',
          'CSeq: 2 CANCEL'
        ]),
        slowPort
      );
      const cancelled = (await me.next((m) => (m as SipResponse).status === 487, 5000)) as SipResponse;
      expect(cancelled.cseq.method).toBe('INVITE');
      release!();
      // The ceiling (one call) is free again: a fresh INVITE passes it and reaches the challenge, not a 503.
      const again = inviteText(me, '127.0.0.1', target, { callId: 'cancel-2@test' });
      await me.send(again, slowPort);
      const second = (await me.next(
        (m) => isFinal(m) && (m as SipResponse).callId === 'cancel-2@test',
        5000
      )) as SipResponse;
      expect(second.status).toBe(401);
      expect(taken).toHaveLength(0);
      expect(lookups).toBe(1);
      expect(slow.rtpPortsInUse).toBe(0);
    } finally {
      release?.();
      await slow.stop();
    }
  });
});

describe('access options', () => {
  it('are checked when the engine is constructed, naming what is wrong', () => {
    expect(() => new Engine({ access: { sip: { deny: ['10.0.0.0/40'] } } })).toThrow(
      /deny list entry '10\.0\.0\.0\/40'/
    );
    expect(() => new Engine({ access: { rtp: { allow: ['nowhere'] } } })).toThrow(RangeError);
    expect(() => new Engine({ access: { sip: { refuse: 'drop' as 'silent' } } })).toThrow(
      /access\.sip\.refuse/
    );
    expect(() => new Engine({ access: { auth: { realm: '', credentials: () => undefined } } })).toThrow(
      /realm/
    );
    expect(() => new Engine({ callLimits: { maxCalls: -3 } })).toThrow(/maxCalls/);
    expect(() => new Engine({ overloadGuard: { sampleMs: 0 } })).toThrow(/sampleMs/);
  });
});

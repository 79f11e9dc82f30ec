/**
 * The door's refusals of new INVITEs, and the INVITE filter's (an unknown room), go statelessly
 * (RFC 3261 §8.2.7) when nothing was sent for the INVITE yet: one response per INVITE, no 100
 * Trying, no retransmission to a source that never ACKs, so a flood with forged sources is not
 * answered tenfold. A caller that does go on
 * (retransmits, answers the challenge) gets through. A refusal that comes after 100 Trying (a
 * credentials lookup slower than 200 ms) still goes through the transaction and is retransmitted
 * until the ACK, so its loss does not leave the caller waiting. Real UDP on loopback; T1 is 50 ms
 * so that the retransmissions this forbids would come within the test's wait.
 */
import { setTimeout as wait } from 'node:timers/promises';
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { Engine, type UASCallChannel } from '../../engine/index.js';
import { computeAuthorization, selectChallenge } from '../../sip/auth/digest.js';
import type { AnySipMessage, SipResponse } from '../../sip/message/message.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';

const T1_MS = 50;
/** Long enough for Timer G to have resent a response 5 times (at 50, 150, 350, 750, 1150 ms). */
const RETRANSMISSIONS_WOULD_COME_MS = 1300;
let engine: Engine;
let port: number;
/** No door at all: the INVITE filter refuses unknown rooms. */
let openEngine: Engine;
let openPort: number;
let lookupDelayMs = 0;
const incoming: UASCallChannel[] = [];
const peers: UdpTestPeer[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'], timers: { t1Ms: T1_MS, t2Ms: 400 } },
    rtp: { minPort: 58750, maxPort: 58799 },
    access: {
      auth: {
        realm: 'uasmedia.test',
        algorithms: ['MD5'],
        credentials: async (_realm, username) => {
          if (lookupDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, lookupDelayMs));
          return username === 'alice' ? 'wonderland' : undefined;
        }
      }
    },
    overloadGuard: false
  });
  engine.on('call', (channel) => {
    incoming.push(channel);
    void channel.ring().catch(() => undefined);
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
  openEngine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'], timers: { t1Ms: T1_MS, t2Ms: 400 } },
    rtp: { minPort: 58800, maxPort: 58849 },
    inviteFilter: (request) => (request.uri.includes('nosuchroom') ? { status: 404 } : undefined),
    overloadGuard: false
  });
  openEngine.on('call', (channel) => void channel.hangUp().catch(() => undefined));
  await openEngine.start();
  openPort = openEngine.sipAddresses()[0].port;
});

afterEach(async () => {
  lookupDelayMs = 0;
  await Promise.all(incoming.splice(0).map((c) => c.hangUp().catch(() => undefined)));
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await engine?.stop();
  await openEngine?.stop();
});

async function peer(): Promise<UdpTestPeer> {
  const p = await new UdpTestPeer().open();
  peers.push(p);
  return p;
}

function invite(
  from: UdpTestPeer,
  callId: string,
  branch: string,
  authorization?: string,
  target = `sip:r1@127.0.0.1:${port}`
): string {
  return sipText([
    `INVITE ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${from.port};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:tester@127.0.0.1>;tag=t-${callId}`,
    `To: <${target}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${authorization ? 2 : 1} INVITE`,
    `Contact: <sip:tester@127.0.0.1:${from.port}>`,
    ...(authorization ? [`Authorization: ${authorization}`] : [])
  ]);
}

function ack(from: UdpTestPeer, callId: string, branch: string, response: SipResponse): string {
  return sipText([
    `ACK sip:r1@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${from.port};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:tester@127.0.0.1>;tag=t-${callId}`,
    `To: ${response.get('To')}`,
    `Call-ID: ${callId}`,
    `CSeq: ${response.cseq.seq} ACK`
  ]);
}

const responsesTo =
  (callId: string) =>
  (m: AnySipMessage): boolean =>
    'status' in m && m.callId === callId;

function answerFor(challenge: SipResponse, password: string): string {
  return computeAuthorization(
    selectChallenge([challenge.getAll('WWW-Authenticate')[0]]),
    { username: 'alice', password },
    { method: 'INVITE', uri: `sip:r1@127.0.0.1:${port}` },
    1
  );
}

describe('refusals at the door', () => {
  it('challenges once, without 100 Trying or retransmission, when the caller never ACKs', async () => {
    const caller = await peer();
    await caller.send(invite(caller, 'never-acks', 'z9hG4bK-na-1'), port);
    const challenge = (await caller.next(responsesTo('never-acks'))) as SipResponse;
    expect(challenge.status).toBe(401);
    await wait(RETRANSMISSIONS_WOULD_COME_MS);
    expect(caller.received.filter(responsesTo('never-acks')).map((m) => (m as SipResponse).status)).toEqual([
      401
    ]);
  });

  it("refuses an unknown room with the filter's 404 once, without 100 Trying or retransmission", async () => {
    const caller = await peer();
    const target = `sip:nosuchroom@127.0.0.1:${openPort}`;
    await caller.send(invite(caller, 'no-room', 'z9hG4bK-nr-1', undefined, target), openPort);
    expect(((await caller.next(responsesTo('no-room'))) as SipResponse).status).toBe(404);
    await wait(RETRANSMISSIONS_WOULD_COME_MS);
    expect(caller.received.filter(responsesTo('no-room')).map((m) => (m as SipResponse).status)).toEqual([
      404
    ]);
  });

  it('answers a retransmitted INVITE with a fresh challenge under the same To tag (§8.2.7), ignores the ACK, and admits the answer', async () => {
    const caller = await peer();
    const branch = 'z9hG4bK-rt-1';
    await caller.send(invite(caller, 'retransmits', branch), port);
    const first = (await caller.next(responsesTo('retransmits'))) as SipResponse;
    await caller.send(invite(caller, 'retransmits', branch), port);
    const second = (await caller.next(responsesTo('retransmits'))) as SipResponse;
    expect([first.status, second.status]).toEqual([401, 401]);
    // The same request, the same tag; another request, another one.
    expect(first.toTag).toMatch(/^[0-9a-f]{12}$/);
    expect(second.toTag).toBe(first.toTag);
    expect(selectChallenge([second.getAll('WWW-Authenticate')[0]]).nonce).not.toBe(
      selectChallenge([first.getAll('WWW-Authenticate')[0]]).nonce
    );
    await caller.send(ack(caller, 'retransmits', branch, second), port);
    await caller.send(invite(caller, 'retransmits', 'z9hG4bK-rt-2', answerFor(second, 'wonderland')), port);
    const answered: number[] = [];
    for (;;) {
      const response = (await caller.next(responsesTo('retransmits'))) as SipResponse;
      answered.push(response.status);
      if (response.status > 100) expect(response.toTag).not.toBe(first.toTag);
      if (response.status === 180) break;
    }
    // The ACK got no answer of its own; the admitted INVITE gets its 100 Trying or not, then 180.
    expect(answered.filter((s) => s !== 100)).toEqual([180]);
    expect(incoming).toHaveLength(1);
  });

  it('retransmits a refusal that came after 100 Trying until the ACK, then stops', async () => {
    const caller = await peer();
    await caller.send(invite(caller, 'slow-lookup', 'z9hG4bK-sl-1'), port);
    const challenge = (await caller.next(responsesTo('slow-lookup'))) as SipResponse;
    lookupDelayMs = 400;
    const branch = 'z9hG4bK-sl-2';
    await caller.send(invite(caller, 'slow-lookup', branch, answerFor(challenge, 'looking-glass')), port);
    const trying = (await caller.next(responsesTo('slow-lookup'))) as SipResponse;
    expect(trying.status).toBe(100);
    const refused = (await caller.next(responsesTo('slow-lookup'))) as SipResponse;
    expect(refused.status).toBe(403);
    const again = (await caller.next(responsesTo('slow-lookup'))) as SipResponse;
    expect(again.status).toBe(403);
    expect(again.toTag).toBe(refused.toTag);
    await caller.send(ack(caller, 'slow-lookup', branch, refused), port);
    await wait(100);
    const afterAck = caller.received.filter(responsesTo('slow-lookup')).length;
    await wait(RETRANSMISSIONS_WOULD_COME_MS);
    expect(caller.received.filter(responsesTo('slow-lookup')).length).toBe(afterAck);
    expect(incoming).toHaveLength(0);
  });
});

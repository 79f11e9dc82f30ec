/**
 * The conference-transfer behaviour of one host (test/channel/transfer.test.ts) with the parties
 * spread over three engine processes: waiting parties on other nodes stop ringing when a
 * startOnEntry party enters anywhere, a timeout while waiting, destroyOnExit on one node
 * retrieving everyone everywhere, exit and mute digits, an entry beep heard on every node, rooms
 * with the same prefix kept apart, trunk INVITEs with a stale epoch refused, and nothing left in
 * the directory after the last party.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { SipUserAgent } from '../../sip/index.js';
import { SipResponse } from '../../sip/message/message.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { heard, peakToneDb, TONE_AMPLITUDE } from './support/levels.js';
import { loudestDbfs } from '../support/tone-analysis.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { sleep, waitFor, waitForAsync } from '../support/wait.js';
import { ClusterNode, roomConnected } from './support/cluster-nodes.js';
import { formatTrunkTag } from '../../engine/cluster/trunk-header.js';

const HEARD_DB = -40;
const ABSENT_DB = -55;
const BEEP_HZ = 800;
/** The US ringback's upper tone (440 + 480 Hz): the phones never send it. */
const RINGBACK_HZ = 480;

const haveRedis = hasPeer('redis-server');

describe.skipIf(!haveRedis)('conference transfer with the parties on three nodes', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  const phones: TonePhone[] = [];

  async function call(
    node: ClusterNode,
    room: string,
    user: string,
    toneHz: number | null
  ): Promise<TonePhone> {
    const p = await TonePhone.create({ toneHz, user, amplitude: TONE_AMPLITUDE });
    phones.push(p);
    await p.call(node.uri(room));
    return p;
  }

  function lastEvent(node: ClusterNode, room: string, user: string, type: 'transfer' | 'retrieved') {
    return node
      .eventsOf(user, room)
      .filter((e) => e.type === type)
      .at(-1) as { state: string; transferCause: string } | undefined;
  }

  async function transferred(node: ClusterNode, room: string, user: string): Promise<void> {
    await waitFor(() => lastEvent(node, room, user, 'transfer')?.state === 'TRANSFERRED', 15000);
  }

  const connected = (room: string, parties: number): Promise<void> => roomConnected(nodes, room, parties);

  async function directoryEmpty(room: string): Promise<void> {
    await waitForAsync(async () => (await redis.keys(`uasmedia:room:${room}:*`)).length === 0, 15000);
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
    nodes = await ClusterNode.startEach(['a', 'b', 'c'], { firstHost: 5, rtpBase: 47000 }, redis.socketPath);
  }, 60000);

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }, 30000);

  it('rings waiting parties on other nodes until a startOnEntry party enters on one; then all are in and hear it', async () => {
    const pb = await call(nodes[1], 'ring', 'waitbob', 620);
    const pc = await call(nodes[2], 'ring', 'waitcarol', 980);
    await sleep(1500);
    expect(lastEvent(nodes[1], 'ring', 'waitbob', 'transfer')).toBeUndefined(); // still ringing
    expect(lastEvent(nodes[2], 'ring', 'waitcarol', 'transfer')).toBeUndefined();
    const pa = await call(nodes[0], 'ring', 'alice', 440);
    await Promise.all([
      transferred(nodes[0], 'ring', 'alice'),
      transferred(nodes[1], 'ring', 'waitbob'),
      transferred(nodes[2], 'ring', 'waitcarol')
    ]);
    await connected('ring', 3 + 4);
    const [hb, hc, ha] = await Promise.all([heard(pb), heard(pc), heard(pa)]);
    expect(hb(440), 'bob hears alice').toBeGreaterThan(HEARD_DB);
    expect(hc(440), 'carol hears alice').toBeGreaterThan(HEARD_DB);
    expect(hb(980), 'bob hears carol').toBeGreaterThan(HEARD_DB);
    expect(ha(620), 'alice hears bob').toBeGreaterThan(HEARD_DB);
    await Promise.all([pa, pb, pc].map((p) => p.hangUp()));
    await directoryEmpty('ring');
  }, 60000);

  it('a waiting party on a node that holds no part of a room already running elsewhere enters at once, and nobody hears ringback', async () => {
    const pa = await call(nodes[0], 'running', 'alice', 440);
    await transferred(nodes[0], 'running', 'alice');
    await sleep(500); // the room has started, and node b has never heard of it
    const pb = await call(nodes[1], 'running', 'waitbob', 620);
    await transferred(nodes[1], 'running', 'waitbob');
    await connected('running', 2 + 2);
    const [ha, hb] = await Promise.all([heard(pa), heard(pb)]);
    expect(ha(620), 'alice hears bob').toBeGreaterThan(HEARD_DB);
    expect(hb(440), 'bob hears alice').toBeGreaterThan(HEARD_DB);
    expect(ha.whole(RINGBACK_HZ), 'alice hears no ringback').toBeLessThan(ABSENT_DB);
    await Promise.all([pa.hangUp(), pb.hangUp()]);
    await directoryEmpty('running');
  }, 60000);

  it("the exit announcement of a node's last party is heard on the other nodes", async () => {
    const pa = await call(nodes[0], 'farewell', 'alice', null);
    await transferred(nodes[0], 'farewell', 'alice');
    // node-a owns the room, so bob's node joins it as a member, with a trunk leg to give up
    await waitForAsync(async () => (await nodes[0].status(['farewell'])).roles.farewell === 'owner', 15000);
    const pb = await call(nodes[1], 'farewell', 'byebob', null);
    await transferred(nodes[1], 'farewell', 'byebob');
    await connected('farewell', 2 + 2);
    await sleep(500);
    pa.clearReceived();
    await pb.hangUp(); // bob was node b's only party: its trunk leg goes too
    await waitForAsync(async () => (await nodes[1].status(['farewell'])).rooms.farewell === 0, 15000);
    const level = loudestDbfs(pa.receivedPcm(), 8000, 100);
    console.log(`alice heard bob's exit announcement at ${level.toFixed(1)} dBFS`);
    expect(level).toBeGreaterThan(-40);
    await pa.hangUp();
    await directoryEmpty('farewell');
  }, 60000);

  it('times out a party waiting on one node while another waits elsewhere, as on one host', async () => {
    const pc = await call(nodes[2], 'slow', 'waitcarol2', 980);
    await call(nodes[1], 'slow', 'latebob', 620);
    await waitFor(() => lastEvent(nodes[1], 'slow', 'latebob', 'transfer') !== undefined, 15000);
    expect(lastEvent(nodes[1], 'slow', 'latebob', 'transfer')).toMatchObject({
      state: 'ANSWERED',
      transferCause: 'TIMEOUT'
    });
    expect(lastEvent(nodes[2], 'slow', 'waitcarol2', 'transfer')).toBeUndefined();
    await pc.hangUp();
    await directoryEmpty('slow');
  }, 60000);

  it('destroyOnExit on one node ends the room on every node and retrieves everyone with NORMAL', async () => {
    const pa = await call(nodes[0], 'doomed', 'bossalice', 440);
    await transferred(nodes[0], 'doomed', 'bossalice');
    const pb = await call(nodes[1], 'doomed', 'bob', 620);
    const pc = await call(nodes[2], 'doomed', 'carol', 980);
    await Promise.all([transferred(nodes[1], 'doomed', 'bob'), transferred(nodes[2], 'doomed', 'carol')]);
    await sleep(500);
    await pa.rfc4733Digit('#', 200);
    await waitFor(() => lastEvent(nodes[0], 'doomed', 'bossalice', 'retrieved') !== undefined, 10000);
    await waitFor(() => lastEvent(nodes[1], 'doomed', 'bob', 'retrieved') !== undefined, 10000);
    await waitFor(() => lastEvent(nodes[2], 'doomed', 'carol', 'retrieved') !== undefined, 10000);
    expect(lastEvent(nodes[1], 'doomed', 'bob', 'retrieved')).toMatchObject({
      state: 'ANSWERED',
      transferCause: 'NORMAL'
    });
    expect(lastEvent(nodes[2], 'doomed', 'carol', 'retrieved')).toMatchObject({
      state: 'ANSWERED',
      transferCause: 'NORMAL'
    });
    await waitFor(() => pb.ended && pc.ended, 10000); // the app hangs up a retrieved call
    await directoryEmpty('doomed');
    for (const n of nodes) expect((await n.status(['doomed'])).rooms.doomed).toBe(0);
  }, 60000);

  it('an exit digit retrieves one party; mute and unmute digits silence and restore it on the other nodes', async () => {
    const pa = await call(nodes[0], 'digits', 'alice', 440);
    await transferred(nodes[0], 'digits', 'alice');
    const pb = await call(nodes[1], 'digits', 'bob', 620);
    const pc = await call(nodes[2], 'digits', 'carol', 980);
    await Promise.all([transferred(nodes[1], 'digits', 'bob'), transferred(nodes[2], 'digits', 'carol')]);
    await connected('digits', 3 + 4);
    // A digit takes effect when its end reaches the room; on a busy host that may take a while.
    const untilHeard = async (
      p: TonePhone,
      check: (h: Awaited<ReturnType<typeof heard>>) => boolean
    ): Promise<void> => {
      await waitForAsync(async () => check(await heard(p, 600)), 15000);
    };
    await pb.rfc4733Digit('0', 200);
    await untilHeard(pc, (h) => h.whole(620) < ABSENT_DB);
    const haMuted = await heard(pa);
    expect(haMuted.whole(620), 'alice does not hear muted bob').toBeLessThan(ABSENT_DB);
    expect(haMuted(980), 'alice hears carol').toBeGreaterThan(HEARD_DB);
    await pb.rfc4733Digit('1', 200);
    await untilHeard(pa, (h) => h(620) > HEARD_DB);
    await pc.rfc4733Digit('#', 200);
    await waitFor(() => lastEvent(nodes[2], 'digits', 'carol', 'retrieved') !== undefined, 10000);
    expect(lastEvent(nodes[2], 'digits', 'carol', 'retrieved')).toMatchObject({ transferCause: 'NORMAL' });
    const [ha2, hb2] = await Promise.all([heard(pa), heard(pb)]);
    expect(ha2.whole(980), 'alice no longer hears carol').toBeLessThan(ABSENT_DB);
    expect(ha2(620), 'alice hears bob').toBeGreaterThan(HEARD_DB);
    expect(hb2(440), 'bob hears alice').toBeGreaterThan(HEARD_DB);
    await Promise.all([pa.hangUp(), pb.hangUp()]);
    await directoryEmpty('digits');
  }, 60000);

  it('an entry beep made on one node is heard on the others', async () => {
    const pa = await call(nodes[0], 'beeps', 'alice', 440);
    await transferred(nodes[0], 'beeps', 'alice');
    const pb = await call(nodes[1], 'beeps', 'bob', 620);
    await transferred(nodes[1], 'beeps', 'bob');
    await connected('beeps', 2 + 2);
    await sleep(800);
    pa.clearReceived();
    pb.clearReceived();
    await call(nodes[2], 'beeps', 'beepcarol', null);
    await transferred(nodes[2], 'beeps', 'beepcarol');
    await sleep(2000);
    const peak = (pcm: Int16Array): number => peakToneDb(pcm, BEEP_HZ);
    const [ba, bb] = [peak(pa.receivedPcm()), peak(pb.receivedPcm())];
    console.log(`entry beep on c heard at ${ba.toFixed(1)} dB on a and ${bb.toFixed(1)} dB on b`);
    expect(ba).toBeGreaterThan(HEARD_DB);
    expect(bb).toBeGreaterThan(HEARD_DB);
  }, 60000);

  it('keeps two rooms whose names share a prefix apart across nodes', async () => {
    const p1 = await call(nodes[0], 'sales1', 'alice', 440);
    const p2 = await call(nodes[1], 'sales1', 'bob', 620);
    const p3 = await call(nodes[1], 'sales12', 'carol', 980);
    const p4 = await call(nodes[2], 'sales12', 'dave', 1300);
    await Promise.all([
      transferred(nodes[0], 'sales1', 'alice'),
      transferred(nodes[1], 'sales1', 'bob'),
      transferred(nodes[1], 'sales12', 'carol'),
      transferred(nodes[2], 'sales12', 'dave')
    ]);
    await connected('sales1', 2 + 2);
    await connected('sales12', 2 + 2);
    const [h1, h2, h3, h4] = await Promise.all([heard(p1), heard(p2), heard(p3), heard(p4)]);
    expect(h1(620)).toBeGreaterThan(HEARD_DB);
    expect(h3(1300)).toBeGreaterThan(HEARD_DB);
    for (const h of [h1, h2]) for (const f of [980, 1300]) expect(h.whole(f)).toBeLessThan(ABSENT_DB);
    for (const h of [h3, h4]) for (const f of [440, 620]) expect(h.whole(f)).toBeLessThan(ABSENT_DB);
    await Promise.all([p1, p2, p3, p4].map((p) => p.hangUp()));
    await directoryEmpty('sales1');
    await directoryEmpty('sales12');
  }, 60000);

  it('reports a talker on one node as a room talker event on every node, and never a trunk leg as a talker', async () => {
    const pa = await call(nodes[0], 'talkers', 'alice', null);
    await transferred(nodes[0], 'talkers', 'alice');
    await call(nodes[1], 'talkers', 'bob', null);
    await call(nodes[2], 'talkers', 'carol', null);
    await Promise.all([transferred(nodes[1], 'talkers', 'bob'), transferred(nodes[2], 'talkers', 'carol')]);
    const events = async (n: number): Promise<string[]> =>
      (await nodes[n].status([])).talking.filter((e) => e.startsWith('talkers '));
    await sleep(1000); // trunk legs carry each node's mix: silence, and they must not be reported anyway
    pa.toneHz = 440;
    await waitForAsync(async () => (await events(0)).includes('talkers talking local'), 10000);
    await waitForAsync(async () => (await events(1)).includes('talkers talking node-a'), 10000);
    await waitForAsync(async () => (await events(2)).includes('talkers talking node-a'), 10000);
    pa.toneHz = null;
    await waitForAsync(async () => (await events(1)).includes('talkers stoppedTalking node-a'), 10000);
    await waitForAsync(async () => (await events(2)).includes('talkers stoppedTalking node-a'), 10000);
    // Muted by her keypad while she talks: every node hears she talks muted, not that she talks.
    pa.toneHz = 440;
    await waitForAsync(
      async () => (await events(1)).filter((e) => e === 'talkers talking node-a').length === 2
    );
    await pa.rfc4733Digit('0', 200);
    await waitForAsync(async () => (await events(1)).includes('talkers mutedTalking node-a'), 10000);
    await waitForAsync(async () => (await events(2)).includes('talkers mutedTalking node-a'), 10000);
    expect(await events(0)).toContain('talkers mutedTalking local');
    expect((await events(1)).at(-2)).toBe('talkers stoppedTalking node-a');
    // alice's tone reached b and c through their trunk legs, yet no local talker was reported there
    expect((await events(1)).filter((e) => e.endsWith(' local'))).toEqual([]);
    expect((await events(2)).filter((e) => e.endsWith(' local'))).toEqual([]);
    expect((await events(0)).filter((e) => !e.endsWith(' local'))).toEqual([]);
  }, 60000);

  it('a node that enters a room while a party on another node talks hears of it, and once only', async () => {
    const pa = await call(nodes[0], 'late', 'alice', 440);
    await transferred(nodes[0], 'late', 'alice');
    const events = async (n: number): Promise<string[]> =>
      (await nodes[n].status([])).talking.filter((e) => e.startsWith('late '));
    await waitForAsync(async () => (await events(0)).includes('late talking local'), 10000);
    // b and c were not in the room when alice began: her 'talking' went out before they watched it.
    await call(nodes[1], 'late', 'bob', null);
    await transferred(nodes[1], 'late', 'bob');
    await waitForAsync(async () => (await events(1)).includes('late talking node-a'), 10000);
    await call(nodes[2], 'late', 'carol', null);
    await transferred(nodes[2], 'late', 'carol');
    await waitForAsync(async () => (await events(2)).includes('late talking node-a'), 10000);
    await sleep(500); // carol's node asked again; b has been told already
    expect((await events(1)).filter((e) => e === 'late talking node-a')).toHaveLength(1);
    pa.toneHz = null;
    await waitForAsync(async () => (await events(1)).includes('late stoppedTalking node-a'), 10000);
    await waitForAsync(async () => (await events(2)).includes('late stoppedTalking node-a'), 10000);
  }, 60000);

  it('refuses a trunk INVITE that is forged, unsigned, malformed, with a stale epoch, or for a room it does not own', async () => {
    const pa = await call(nodes[0], 'fenced', 'alice', 440);
    await transferred(nodes[0], 'fenced', 'alice');
    const client = redis.client();
    await waitForAsync(async () => (await client.get('uasmedia:room:fenced:owner')) !== null);
    // The key is written before node-a has the directory's answer: until then it refuses every
    // trunk leg as not (yet) the owner (404), the stale epoch included.
    await waitForAsync(async () => (await nodes[0].status(['fenced'])).roles.fenced === 'owner');
    const [owner, epochText] = ((await client.get('uasmedia:room:fenced:owner')) ?? '').split(' ');
    const secret = await client.get('uasmedia:trunk-secret');
    client.disconnect();
    expect(owner).toBe('node-a');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const epoch = Number(epochText);
    const signed = (e: number): string =>
      formatTrunkTag({ room: 'fenced', epoch: e, node: 'node-x' }, secret!, Date.now() / 1000);
    const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
    await ua.start();
    const sdp = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 9 RTP/AVP 0',
      'a=rtpmap:0 PCMU/8000',
      ''
    ].join('\r\n');
    const status = async (uri: string, header: string): Promise<number | undefined> => {
      const invite = ua.invite(uri, { body: sdp, headers: { 'X-Uasmedia-Trunk': header } });
      return invite.established.then(
        () => 200,
        (error: { status?: number }) => error.status
      );
    };
    try {
      // The owner's own epoch, without the cluster's secret: anyone could learn the epoch, and
      // such a leg used to enter the room unseen, past any PIN.
      const now = Math.floor(Date.now() / 1000);
      expect(
        await status(
          nodes[0].uri('fenced'),
          `room=fenced;epoch=${epoch};node=node-x;id=${'A'.repeat(22)};ts=${now};mac=${'A'.repeat(43)}`
        )
      ).toBe(403);
      expect(await status(nodes[0].uri('fenced'), `room=fenced;epoch=${epoch};node=node-x`)).toBe(400);
      if (epoch > 1) expect(await status(nodes[0].uri('fenced'), signed(epoch - 1))).toBe(403);
      expect(await status(nodes[0].uri('fenced'), signed(epoch + 5))).toBe(403);
      expect(await status(nodes[0].uri('fenced'), 'room=fenced;epoch=zz')).toBe(400);
      expect(await status(nodes[1].uri('fenced'), signed(epoch))).toBe(404);
      // A good tag for another room than the one dialled, and a good tag played again: a header
      // captured on the wire let anyone in for its 120 s, again and again, from anywhere.
      expect(await status(nodes[0].uri('elsewhere'), signed(epoch))).toBe(403);
      const good = signed(epoch);
      const taken = ua.invite(nodes[0].uri('fenced'), { body: sdp, headers: { 'X-Uasmedia-Trunk': good } });
      await taken.established;
      expect(await status(nodes[0].uri('fenced'), good)).toBe(403);
      await taken.bye();
      // A trunk leg takes its dialog's requests only from where its INVITE came: a BYE forged from
      // another address (by anyone who saw the leg's Call-ID and tags) split the room for 30 s.
      const uri = nodes[0].uri('fenced');
      const [, nodeHost, nodePort] = /@([^:;>]+):(\d+)/.exec(uri)!;
      const [leg, forger] = await Promise.all([
        new UdpTestPeer().open('127.0.0.1'),
        new UdpTestPeer().open('127.0.0.2')
      ]);
      try {
        const request = (from: UdpTestPeer, method: string, cseq: number, toTag = '', extra: string[] = []) =>
          sipText(
            [
              `${method} ${uri} SIP/2.0`,
              `Via: SIP/2.0/UDP ${from.host}:${from.port};branch=z9hG4bK-pin-${method}-${cseq};rport`,
              'Max-Forwards: 70',
              'From: <sip:node-x@127.0.0.1>;tag=pinned',
              `To: <${uri}>${toTag}`,
              'Call-ID: trunk-pinned',
              `CSeq: ${cseq} ${method}`,
              `Contact: <sip:node-x@127.0.0.1:${leg.port}>`,
              ...extra
            ],
            method === 'INVITE' ? sdp : ''
          );
        const answer = async (from: UdpTestPeer, method: string): Promise<number> =>
          (
            (await from.next(
              (m) =>
                m instanceof SipResponse &&
                m.callId === 'trunk-pinned' &&
                m.cseq.method === method &&
                m.status >= 200,
              10_000
            )) as SipResponse
          ).status;
        await leg.send(
          request(leg, 'INVITE', 1, '', [
            `X-Uasmedia-Trunk: ${signed(epoch)}`,
            'Content-Type: application/sdp'
          ]),
          Number(nodePort),
          nodeHost
        );
        expect(await answer(leg, 'INVITE')).toBe(200);
        const ok = leg.received.find((m) => m instanceof SipResponse && m.status === 200) as SipResponse;
        const toTag = `;tag=${ok.toTag}`;
        await leg.send(request(leg, 'ACK', 1, toTag), Number(nodePort), nodeHost);
        await forger.send(request(forger, 'BYE', 2, toTag), Number(nodePort), nodeHost);
        expect(await answer(forger, 'BYE')).toBe(481);
        await leg.send(request(leg, 'BYE', 3, toTag), Number(nodePort), nodeHost);
        expect(await answer(leg, 'BYE')).toBe(200);
      } finally {
        await Promise.all([leg.close(), forger.close()]);
      }
      // the room and its party are undisturbed
      await waitForAsync(async () => (await nodes[0].status(['fenced'])).rooms.fenced === 1);
    } finally {
      await ua.close();
    }
    await pa.hangUp();
    await directoryEmpty('fenced');
  }, 60000);
});

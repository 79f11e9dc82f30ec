/**
 * Interop with SIPp over real loopback sockets: SIPp as UAC against our UAS (basic call,
 * INVITE + CANCEL, a call with 10 % packet loss) and as UAS against our UAC (plain, and with
 * a digest challenge). The test code plays the application with a minimal SDP.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { hasPeer } from '../support/peers.js';
import { freeUdpPort, killAllSipp, runSipp } from '../support/sip-sipp.js';
import { testSdp } from '../support/sip-sdp.js';

const SCENARIOS = fileURLToPath(new URL('../fixtures/sipp/', import.meta.url));
const agents: SipUserAgent[] = [];

async function agent(t1Ms: number): Promise<{ ua: SipUserAgent; port: number }> {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    timers: { t1Ms, t2Ms: 8 * t1Ms, t4Ms: 10 * t1Ms }
  });
  agents.push(ua);
  await ua.start();
  return { ua, port: ua.addresses()[0].port };
}

async function sippPorts(): Promise<string[]> {
  return ['-i', '127.0.0.1', '-p', String(await freeUdpPort()), '-mp', String(await freeUdpPort())];
}

afterEach(async () => {
  killAllSipp();
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
});

/** The application side of a UAS call: ring, answer, record what happened. */
function answerCalls(ua: SipUserAgent): {
  ended: Promise<string>;
  acked: Promise<void>;
  sessions: IncomingInvite[];
} {
  const sessions: IncomingInvite[] = [];
  let resolveEnded: (r: string) => void = () => {};
  let resolveAcked: () => void = () => {};
  const ended = new Promise<string>((r) => (resolveEnded = r));
  const acked = new Promise<void>((r) => (resolveAcked = r));
  ua.on('invite', (session) => {
    sessions.push(session);
    session.on('terminated', (e) => resolveEnded(e.reason));
    session.progress(180);
    session.accept(testSdp(20000)).then(resolveAcked, () => {});
  });
  return { ended, acked, sessions };
}

describe.skipIf(!hasPeer('sipp'))('SIPp interop', () => {
  it('SIPp uac: basic call answered by our UAS and ended with BYE', async () => {
    const { ua, port } = await agent(100);
    const app = answerCalls(ua);
    const sipp = runSipp([
      '-sn',
      'uac',
      `127.0.0.1:${port}`,
      ...(await sippPorts()),
      '-m',
      '1',
      '-d',
      '300',
      '-timeout',
      '12s'
    ]);
    const result = await sipp.done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    await app.acked;
    expect(await app.ended).toBe('bye');
    expect(app.sessions[0].remoteSdp).toContain('m=audio');
    expect(ua.activity.dialogs).toBe(0);
  });

  it('SIPp uac over TCP (-t t1): Content-Length framing both ways, call and BYE', async () => {
    const ua = new SipUserAgent({
      transports: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }],
      timers: { t1Ms: 100 }
    });
    agents.push(ua);
    await ua.start();
    const app = answerCalls(ua);
    const port = ua.addresses()[0].port;
    const sipp = runSipp([
      '-sn',
      'uac',
      '-t',
      't1',
      `127.0.0.1:${port}`,
      ...(await sippPorts()),
      '-m',
      '1',
      '-d',
      '200',
      '-timeout',
      '12s'
    ]);
    const result = await sipp.done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    await app.acked;
    expect(await app.ended).toBe('bye');
    expect(app.sessions[0].protocol).toBe('tcp');
  });

  it('SIPp uac: INVITE then CANCEL gets 200 for the CANCEL and 487 for the INVITE', async () => {
    const { ua, port } = await agent(100);
    const events: string[] = [];
    const ended = new Promise<string>((resolve) => {
      ua.on('invite', (session) => {
        session.on('cancel', () => events.push('cancel'));
        session.on('terminated', (e) => resolve(e.reason));
        session.progress(180);
      });
    });
    const sipp = runSipp([
      '-sf',
      `${SCENARIOS}uac-cancel.xml`,
      `127.0.0.1:${port}`,
      ...(await sippPorts()),
      '-m',
      '1',
      '-timeout',
      '12s'
    ]);
    const result = await sipp.done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    expect(await ended).toBe('cancel');
    expect(events).toEqual(['cancel']);
  });

  it('SIPp uac with -lost 10: retransmission timers on both sides still complete the calls', async () => {
    // SIPp's uac scenario retransmits with T1 = 500 ms, so we run the RFC default T1 too. With a
    // shorter T1 our BYE transaction (timer J = 64*T1) is gone before SIPp's last BYE
    // retransmissions, and the BYE whose 200s were all lost is answered 481.
    const { ua, port } = await agent(500);
    let byes = 0;
    ua.on('invite', (session) => {
      session.on('bye', () => byes++);
      session.accept(testSdp(20000)).catch(() => {});
    });
    const sipp = runSipp(
      [
        '-sn',
        'uac',
        `127.0.0.1:${port}`,
        ...(await sippPorts()),
        '-m',
        '3',
        '-l',
        '1',
        '-d',
        '100',
        '-lost',
        '10',
        '-timeout',
        '40s'
      ],
      42_000
    );
    const result = await sipp.done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    expect(byes).toBeGreaterThanOrEqual(1);
  }, 45_000);

  it('SIPp uas: our UAC places a call, gets the answer SDP, ACKs and hangs up', async () => {
    const { ua } = await agent(100);
    const sippPort = await freeUdpPort();
    const sipp = runSipp([
      '-sn',
      'uas',
      '-i',
      '127.0.0.1',
      '-p',
      String(sippPort),
      '-mp',
      String(await freeUdpPort()),
      '-m',
      '1',
      '-timeout',
      '12s'
    ]);
    await new Promise((r) => setTimeout(r, 300)); // let SIPp bind
    const call = ua.invite(`sip:service@127.0.0.1:${sippPort}`, {
      body: testSdp(21000),
      displayName: 'uasmedia test'
    });
    const progress: number[] = [];
    call.on('progress', (e) => progress.push(e.status));
    const { answerSdp } = await call.established;
    expect(answerSdp).toContain('m=audio');
    expect(progress).toContain(180);
    await call.bye();
    const result = await sipp.done;
    expect(result.code, result.errors || result.stdout).toBe(0);
  });

  it('SIPp uas with a 401 digest challenge: our UAC authenticates and the call completes', async () => {
    const { ua } = await agent(100);
    const sippPort = await freeUdpPort();
    const sipp = runSipp([
      '-sf',
      `${SCENARIOS}uas-digest.xml`,
      '-i',
      '127.0.0.1',
      '-p',
      String(sippPort),
      '-mp',
      String(await freeUdpPort()),
      '-m',
      '1',
      '-timeout',
      '12s'
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const call = ua.invite(`sip:service@127.0.0.1:${sippPort}`, {
      body: testSdp(21000),
      auth: { username: 'alice', password: 's3cret' }
    });
    const { answerSdp } = await call.established;
    expect(answerSdp).toContain('m=audio');
    await call.bye();
    const result = await sipp.done;
    expect(result.code, result.errors || result.stdout).toBe(0);
  });
});

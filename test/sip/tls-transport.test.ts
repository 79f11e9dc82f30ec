/**
 * SIP over TLS between two user agents on loopback, with a certificate made by openssl for the
 * run: sips: targets, Via SIP/2.0/TLS, TLS Contacts, requests both ways inside the dialog; TLS
 * older than 1.2, plain TCP on the TLS port and an untrusted certificate are refused without
 * disturbing the agent.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../sip/user-agent.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { hasPeer } from '../support/peers.js';
import { testSdp } from '../support/sip-sdp.js';
import { makeTestCertificate, type TestCertificate } from '../support/tls-certificate.js';

const haveOpenssl = hasPeer('openssl');
let certificate: TestCertificate;
const agents: SipUserAgent[] = [];

beforeAll(() => {
  if (haveOpenssl) certificate = makeTestCertificate();
});
afterAll(() => certificate?.remove());
afterEach(async () => {
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
});

/** Connects over TLS 1.2 to `port` and asks for a renegotiation; what came of it. */
async function renegotiate(port: number): Promise<string> {
  const client = tls.connect({
    host: '127.0.0.1',
    port,
    ca: certificate.cert,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2'
  });
  client.on('error', () => undefined);
  try {
    await new Promise((resolve, reject) => {
      client.once('secureConnect', resolve);
      client.once('error', reject);
    });
    return await new Promise<string>((resolve) => {
      const asked = client.renegotiate({ rejectUnauthorized: false }, (error) =>
        resolve(error ? `refused: ${error.message}` : 'renegotiated')
      );
      if (!asked) resolve('not sent');
      client.once('error', (error) => resolve(`refused: ${error.message}`));
      client.once('close', () => resolve('closed'));
    });
  } finally {
    client.destroy();
  }
}

async function tlsAgent(options: { trust?: boolean } = {}): Promise<SipUserAgent> {
  const ua = new SipUserAgent({
    transports: [
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      {
        protocol: 'tls',
        host: '127.0.0.1',
        port: 0,
        tls: {
          cert: certificate.cert,
          key: certificate.key,
          ca: options.trust === false ? undefined : certificate.cert
        }
      }
    ],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  agents.push(ua);
  await ua.start();
  return ua;
}

function tlsPort(ua: SipUserAgent): number {
  return ua.addresses().find((a) => a.protocol === 'tls')!.port;
}

/** A call over TLS to `uas` is answered and ended: it serves on after whatever came before. */
async function callsStillConnect(uas: SipUserAgent, room: string): Promise<void> {
  const uac = await tlsAgent();
  uas.once('invite', (s) => void s.accept(testSdp(5004)));
  const call = uac.invite(`sips:${room}@127.0.0.1:${tlsPort(uas)}`, { body: testSdp(4004) });
  await call.established;
  await call.bye();
}

function nextInvite(ua: SipUserAgent): Promise<IncomingInvite> {
  return new Promise((resolve) => ua.once('invite', resolve));
}

describe.runIf(haveOpenssl)('SIP over TLS', () => {
  it('places a call to a sips: URI over TLS; Via says TLS, Contacts say transport=tls, and both sides can end the dialog', async () => {
    const [uac, uas] = [await tlsAgent(), await tlsAgent()];
    expect(tlsPort(uas)).not.toBe(uas.addresses().find((a) => a.protocol === 'udp')!.port);
    const incoming = nextInvite(uas);
    const call = uac.invite(`sips:room1@127.0.0.1:${tlsPort(uas)}`, {
      body: testSdp(4000),
      from: 'sips:alice@127.0.0.1'
    });
    expect(call.protocol).toBe('tls');
    const session = await incoming;
    expect(session.protocol).toBe('tls');
    expect(session.request.get('Via')).toMatch(/^SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;/);
    expect(session.request.get('Contact')).toMatch(/^<sip:uasmedia@127\.0\.0\.1:\d+;transport=tls>$/);
    const acked = session.accept(testSdp(5000));
    await call.established;
    await acked;
    // The callee hangs up: its BYE goes to the caller's TLS Contact over a new, verified TLS connection.
    const ended = new Promise((resolve) => call.once('terminated', (e) => resolve(e.reason)));
    await session.bye();
    expect(await ended).toBe('bye');
    // A second call the other way round, ended by its caller.
    const back = nextInvite(uac);
    const call2 = uas.invite(`sip:room2@127.0.0.1:${tlsPort(uac)};transport=tls`, { body: testSdp(4002) });
    const session2 = await back;
    void session2.accept(testSdp(5002));
    await call2.established;
    await call2.bye();
    expect(uas.activity.dialogs).toBe(0);
  });

  it('refuses TLS 1.1 and plain TCP on the TLS port, and keeps taking calls', async () => {
    const uas = await tlsAgent();
    const port = tlsPort(uas);
    const old = tls.connect({
      host: '127.0.0.1',
      port,
      maxVersion: 'TLSv1.1',
      minVersion: 'TLSv1',
      rejectUnauthorized: false
    });
    const oldResult = await new Promise<string>((resolve) => {
      old.once('secureConnect', () => resolve('connected'));
      old.once('error', (e) => resolve(`error: ${e.message}`));
    });
    old.destroy();
    expect(oldResult).toMatch(/^error/);
    const plain = net.connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => plain.once('connect', resolve));
    plain.write('INVITE sip:room1@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n');
    await new Promise((resolve) => plain.once('close', resolve));
    await callsStillConnect(uas, 'room3');
  });

  it('refuses a TLS 1.2 renegotiation (a full handshake the connection limits never see), and keeps taking calls', async () => {
    const uas = await tlsAgent();
    expect(await renegotiate(tlsPort(uas))).toMatch(/^refused: .*no renegotiation/);
    await callsStillConnect(uas, 'room4');
  });

  it('refuses one on the secure WebSocket port too (the join page and SIP over WSS), as a plain https server did not', async () => {
    const ua = new SipUserAgent({
      transports: [
        {
          protocol: 'ws',
          host: '127.0.0.1',
          port: 0,
          ws: { tls: { cert: certificate.cert, key: certificate.key } }
        }
      ]
    });
    agents.push(ua);
    await ua.start();
    expect(await renegotiate(ua.addresses()[0].port)).toMatch(/^refused: .*no renegotiation/);
  });

  it('lets a phone that reconnects resume its TLS session (a ticket), in TLS 1.3 and 1.2', async () => {
    const port = tlsPort(await tlsAgent());
    const open = (version: tls.SecureVersion, session?: Buffer): tls.TLSSocket =>
      tls.connect({
        host: '127.0.0.1',
        port,
        ca: certificate.cert,
        session,
        minVersion: version,
        maxVersion: version
      });
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      const first = open(version);
      // The session to resume with (in TLS 1.3 a ticket the server sends after the handshake).
      const ticket = await new Promise<Buffer>((resolve, reject) => {
        first.once('session', resolve);
        first.once('error', reject);
      });
      expect(first.isSessionReused()).toBe(false);
      first.end();
      const second = open(version, ticket);
      await new Promise((resolve, reject) => {
        second.once('secureConnect', resolve);
        second.once('error', reject);
      });
      expect(second.isSessionReused(), version).toBe(true);
      second.end();
    }
  });

  it('does not call a TLS peer whose certificate it cannot verify, and never downgrades a sips: target', async () => {
    const uas = await tlsAgent();
    uas.on('invite', (s) => void s.accept(testSdp(5006)));
    const untrusting = await tlsAgent({ trust: false });
    const call = untrusting.invite(`sips:room4@127.0.0.1:${tlsPort(uas)}`, { body: testSdp(4006) });
    await expect(call.established).rejects.toMatchObject({ code: 'ERR_SIP_TRANSPORT', status: 503 });
    const udpOnly = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
    agents.push(udpOnly);
    await udpOnly.start();
    expect(() => udpOnly.invite(`sips:room5@127.0.0.1:${tlsPort(uas)}`, { body: testSdp(4008) })).toThrow(
      /tls/
    );
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../../sip/user-agent.js';
import { WsTransport } from '../../../sip/transport/ws.js';
import type { MessageSource } from '../../../sip/transport/transport.js';
import type { IncomingInvite } from '../../../sip/session/incoming-invite.js';
import type { SipRequest, SipResponse } from '../../../sip/message/message.js';
import { testSdp } from '../../support/sip-sdp.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { waitFor } from '../../support/wait.js';
import { hasPeer } from '../../support/peers.js';
import { httpRequest } from '../../support/http-request.js';
import { warningLogger } from '../../support/warning-logger.js';

const agents: Array<{ close(): Promise<void> }> = [];
const clients: WsSipClient[] = [];

async function agent(
  logger?: ReturnType<typeof warningLogger>['logger']
): Promise<{ ua: SipUserAgent; url: string; port: number }> {
  const ua = new SipUserAgent({
    logger,
    transports: [
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      {
        protocol: 'ws',
        host: '127.0.0.1',
        port: 0,
        ws: {
          path: '/sip',
          httpHandler: (_req, res) =>
            res.writeHead(200, { 'content-type': 'text/plain' }).end('join page here')
        }
      }
    ],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  agents.push(ua);
  await ua.start();
  const port = ua.addresses().find((a) => a.protocol === 'ws')!.port;
  return { ua, url: `ws://127.0.0.1:${port}/sip`, port };
}

async function client(
  url: string,
  protocols?: string[],
  options?: { origin?: string; headers?: Record<string, string> }
): Promise<WsSipClient> {
  const c = await WsSipClient.connect(url, protocols, options);
  clients.push(c);
  return c;
}

const isResponse = (m: SipRequest | SipResponse): m is SipResponse => 'status' in m;
/** The requests a client has received, as `METHOD Call-ID`. */
const requestsTo = (c: WsSipClient): string[] =>
  c.received.filter((m): m is SipRequest => 'method' in m).map((m) => `${m.method} ${m.callId}`);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
});

describe('SIP over WebSocket (RFC 7118)', () => {
  it('refuses a handshake without the sip subprotocol (400) or on another path (404), and keeps serving', async () => {
    const { url, port } = await agent();
    await expect(WsSipClient.connect(url, [])).rejects.toThrow(/handshake refused: 400/);
    await expect(WsSipClient.connect(url, ['chat'])).rejects.toThrow(/handshake refused: 400/);
    await expect(WsSipClient.connect(`ws://127.0.0.1:${port}/other`)).rejects.toThrow(
      /handshake refused: 404/
    );
    const c = await client(url);
    expect(c.socket.protocol).toBe('sip');
    c.send(c.request('OPTIONS', 'sip:room1@127.0.0.1', { callId: 'opt-1' }));
    expect((await c.response('opt-1', 200)).get('Allow')).toContain('INVITE');
  });

  it("refuses a browser page from a foreign origin (403), logging a burst once, takes its own origin's, a listed one's, and a phone's", async () => {
    // Any site a user visits could otherwise open the socket from the user's machine.
    const { logger, warnings } = warningLogger();
    const { url, port } = await agent(logger);
    await expect(client(url, ['sip'], { origin: 'https://evil.example' })).rejects.toThrow(
      /handshake refused: 403/
    );
    await expect(client(url, ['sip'], { origin: `http://127.0.0.1:${port + 1}` })).rejects.toThrow(
      /handshake refused: 403/
    );
    await expect(client(url, ['sip'], { origin: 'null' })).rejects.toThrow(/handshake refused: 403/);
    // A stranger's refused handshakes are not a line each.
    expect(warnings.filter((w) => w.msg.includes('foreign web origin'))).toHaveLength(1);
    for (const c of [
      await client(url, ['sip'], { origin: `http://127.0.0.1:${port}` }), // the page this server serves
      await client(url) // no Origin: a phone, not a page
    ]) {
      c.send(c.request('OPTIONS', 'sip:room1@127.0.0.1', { callId: `origin-${clients.length}` }));
      await c.response(`origin-${clients.length}`, 200);
    }
    const listed = new SipUserAgent({
      transports: [
        { protocol: 'ws', host: '127.0.0.1', port: 0, ws: { allowedOrigins: ['https://app.example.com'] } }
      ]
    });
    agents.push(listed);
    await listed.start();
    const listedUrl = `ws://127.0.0.1:${listed.addresses()[0].port}/`;
    await client(listedUrl, ['sip'], { origin: 'https://app.example.com' });
    await expect(client(listedUrl, ['sip'], { origin: 'https://other.example.com' })).rejects.toThrow(/403/);
  });

  it('answers a request or handshake naming a host not its own with 421 (DNS rebinding), and IP literals, localhost and listed names as before', async () => {
    // A page whose domain was re-pointed at us is, to the browser, its own origin: only the Host
    // header says whose name it used.
    const { url, port } = await agent();
    const rebound = `evil.example:${port}`;
    const refused = await httpRequest({ port, path: '/', host: rebound });
    expect(refused.status).toBe(421);
    expect(refused.body).toMatch(/^misdirected request/);
    expect((await httpRequest({ port, path: '/', host: null })).status).toBe(421);
    await expect(
      client(url, ['sip'], { headers: { Host: rebound }, origin: `http://${rebound}` })
    ).rejects.toThrow(/handshake refused: 421/);
    await expect(client(url, ['sip'], { headers: { Host: rebound } })).rejects.toThrow(
      /handshake refused: 421/
    );
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const page = await httpRequest({ port, path: '/', host });
      expect(page.status, host).toBe(200);
      expect(page.body).toBe('join page here');
      await client(url, ['sip'], { headers: { Host: host } });
    }
    const listed = new SipUserAgent({
      transports: [{ protocol: 'ws', host: '127.0.0.1', port: 0, ws: { allowedHosts: ['pbx.example.com'] } }]
    });
    agents.push(listed);
    await listed.start();
    const listedPort = listed.addresses()[0].port;
    const listedUrl = `ws://127.0.0.1:${listedPort}/`;
    expect((await httpRequest({ port: listedPort, host: `pbx.example.com:${listedPort}` })).status).toBe(404);
    const c = await client(listedUrl, ['sip'], {
      headers: { Host: `pbx.example.com:${listedPort}` },
      origin: `http://pbx.example.com:${listedPort}`
    });
    c.send(c.request('OPTIONS', 'sip:room1@127.0.0.1', { callId: 'opt-host' }));
    await c.response('opt-host', 200);
    expect((await httpRequest({ port: listedPort, host: `other.example.com:${listedPort}` })).status).toBe(
      421
    );
  });

  it('answers OPTIONS over the connection with the Via the client wrote (received added)', async () => {
    const { url } = await agent();
    const c = await client(url);
    c.send(c.request('OPTIONS', 'sip:room1@127.0.0.1', { callId: 'opt-2' }));
    const response = await c.response('opt-2', 200);
    expect(response.topVia.host).toBe(c.invalidHost);
    expect(response.topVia.transport).toBe('WSS');
    expect(response.topVia.params.get('received')).toBe('127.0.0.1');
  });

  it('drops a non-SIP frame, counts it, and the same connection goes on working', async () => {
    const { ua, url } = await agent();
    const c = await client(url);
    c.send('hello, this is not SIP\r\n\r\n');
    c.send(Buffer.from([0, 1, 2, 3, 255]));
    await waitFor(() => ua.stats.malformed >= 2);
    c.send(c.request('OPTIONS', 'sip:room1@127.0.0.1', { callId: 'opt-3' }));
    await c.response('opt-3', 200);
    expect(c.closeCode).toBeUndefined();
  });

  it('closes a connection that sends a 1 MB message (1009), and only that one', async () => {
    const { url } = await agent();
    const big = await client(url);
    const other = await client(url);
    big.send(big.request('OPTIONS', 'sip:room1@127.0.0.1', { body: 'x'.repeat(1 << 20) }));
    await waitFor(() => big.closeCode !== undefined);
    expect(big.closeCode).toBe(1009);
    other.send(other.request('OPTIONS', 'sip:room1@127.0.0.1', { callId: 'opt-4' }));
    await other.response('opt-4', 200);
  });

  it('takes an INVITE, answers with a ws Contact, and sends its BYE over the browser connection (*.invalid)', async () => {
    const { ua, url } = await agent();
    const c = await client(url);
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    c.send(c.request('INVITE', 'sip:room1@127.0.0.1', { callId: 'inv-1', body: testSdp(4000) }));
    const session = await incoming;
    expect(session.protocol).toBe('ws');
    const acked = session.accept(testSdp(5000));
    const ok = await c.response('inv-1', 200);
    expect(ok.get('Contact')).toMatch(/;transport=ws>/);
    c.send(c.request('ACK', 'sip:room1@127.0.0.1', { callId: 'inv-1', cseq: 1, toTag: ok.toTag }));
    await acked;
    const ended = new Promise((resolve) => session.once('terminated', ({ reason }) => resolve(reason)));
    const bye = session.bye();
    const request = await c.requestFor('inv-1', 'BYE');
    expect(request.uri).toBe(`sip:web@${c.invalidHost};transport=ws`);
    expect(request.topVia.transport).toBe('WS');
    expect(await ended).toBe('local');
    await bye;
    expect(ua.activity.dialogs).toBe(0);
    expect(c.received.filter(isResponse).every((r) => r.callId !== 'inv-1' || r.status < 300)).toBe(true);
  });

  // A client may write another's *.invalid name in its Via and Contact: an application with one
  // via_host for every user, a second tab, or someone after the other's calls.
  it.each(['after', 'before'] as const)(
    "sends a call's BYE over the connection its INVITE came on when another connection names its host %s the call",
    async (when) => {
      const { ua, url } = await agent();
      const [caller, other] = [await client(url), await client(url)];
      const nameCallersHost = async (): Promise<void> => {
        const claim = other.request('OPTIONS', 'sip:room1@127.0.0.1', { callId: `claim-${when}` });
        other.send(claim.replaceAll(other.invalidHost, caller.invalidHost));
        await other.response(`claim-${when}`, 200);
      };
      if (when === 'before') await nameCallersHost();
      const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
      caller.send(caller.request('INVITE', 'sip:room1@127.0.0.1', { callId: 'flow-1', body: testSdp(4000) }));
      const session = await incoming;
      const acked = session.accept(testSdp(5000));
      const ok = await caller.response('flow-1', 200);
      caller.send(
        caller.request('ACK', 'sip:room1@127.0.0.1', { callId: 'flow-1', cseq: 1, toTag: ok.toTag })
      );
      await acked;
      if (when === 'after') await nameCallersHost();
      // bye() resolves on the 200, which its receiver sends after taking the BYE.
      await session.bye();
      expect(requestsTo(caller)).toEqual(['BYE flow-1']);
      expect(requestsTo(other)).toEqual([]);
    }
  );

  it('sends a request outside any dialog to the live connection that named the host first', async () => {
    const { ua, url } = await agent();
    const [first, second] = [await client(url), await client(url)];
    const shared = first.invalidHost;
    for (const [c, id] of [
      [first, 'name-1'],
      [second, 'name-2']
    ] as const) {
      c.send(c.request('OPTIONS', 'sip:room1@127.0.0.1', { callId: id }).replaceAll(c.invalidHost, shared));
      await c.response(id, 200);
    }
    const call = ua.invite(`sip:web@${shared};transport=ws`, { body: testSdp(6000) });
    await first.requestFor(call.callId, 'INVITE');
    expect(requestsTo(second)).toEqual([]);
    await call.bye();
  });

  it('ends the calls of a connection that closes (reason error), and not the calls of another', async () => {
    const { ua, url } = await agent();
    const [gone, stays] = [await client(url), await client(url)];
    const sessions: IncomingInvite[] = [];
    ua.on('invite', (s) => {
      sessions.push(s);
      void s.accept(testSdp(5000)).catch(() => {});
    });
    for (const [c, id] of [
      [gone, 'gone-1'],
      [stays, 'stays-1']
    ] as const) {
      c.send(c.request('INVITE', 'sip:room1@127.0.0.1', { callId: id, body: testSdp(4000) }));
      const ok = await c.response(id, 200);
      c.send(c.request('ACK', 'sip:room1@127.0.0.1', { callId: id, cseq: 1, toTag: ok.toTag }));
    }
    await waitFor(() => sessions.length === 2);
    const goneSession = sessions.find((s) => s.callId === 'gone-1')!;
    const ended = new Promise((resolve) => goneSession.once('terminated', ({ reason }) => resolve(reason)));
    await gone.close();
    expect(await ended).toBe('error');
    await expect(goneSession.info('application/dtmf-relay', 'Signal=1')).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE'
    });
    expect(sessions.find((s) => s.callId === 'stays-1')!.terminated).toBe(false);
    expect(ua.activity.dialogs).toBe(1);
  });

  it("fails a send to a closed connection's flow (ERR_SIP_TRANSPORT), though a live connection gave its address as a name", async () => {
    const sources: MessageSource[] = [];
    const closed: MessageSource[] = [];
    const transport = new WsTransport(
      { host: '127.0.0.1', port: 0 },
      { message: (_data, source) => sources.push(source), connectionClosed: (source) => closed.push(source) }
    );
    agents.push(transport);
    await transport.listen();
    const url = `ws://127.0.0.1:${transport.address().port}/`;
    const [gone, stays] = [await client(url), await client(url)];
    let staysGot = 0;
    stays.socket.on('message', () => staysGot++);
    gone.send('a');
    await waitFor(() => sources.length === 1);
    stays.send('b');
    await waitFor(() => sources.length === 2);
    const [goneFlow, staysFlow] = sources;
    transport.learnRoute(goneFlow.host, staysFlow);
    await gone.close();
    await waitFor(() => closed.length === 1);
    await expect(transport.send(Buffer.from('BYE'), { ...goneFlow, flow: true })).rejects.toMatchObject({
      code: 'ERR_SIP_TRANSPORT'
    });
    // Without the flow mark the address is a name to look up, and that name is the live one's.
    await transport.send(Buffer.from('OPTIONS'), goneFlow);
    await waitFor(() => staysGot === 1);
  });

  it('serves plain HTTP on the same port through its handler', async () => {
    const { port } = await agent();
    expect((await httpRequest({ port })).body).toBe('join page here');
  });

  it.skipIf(!hasPeer('openssl'))(
    'speaks WSS with a certificate and key: Via SIP/2.0/WSS and a transport=wss Contact',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'uasmedia-wss-'));
      try {
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-keyout',
            join(dir, 'key.pem'),
            '-out',
            join(dir, 'cert.pem'),
            '-days',
            '1',
            '-subj',
            '/CN=127.0.0.1'
          ],
          { stdio: 'ignore' }
        );
        const ua = new SipUserAgent({
          transports: [
            {
              protocol: 'ws',
              host: '127.0.0.1',
              port: 0,
              ws: {
                tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) }
              }
            }
          ]
        });
        agents.push(ua);
        await ua.start();
        const port = ua.addresses()[0].port;
        const c = await WsSipClient.connect(`wss://127.0.0.1:${port}/`, ['sip'], {
          rejectUnauthorized: false
        });
        clients.push(c);
        const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
        c.send(c.request('INVITE', 'sip:room1@127.0.0.1', { callId: 'wss-1', body: testSdp(4000) }));
        const session = await incoming;
        void session.accept(testSdp(5000)).catch(() => {});
        const ok = await c.response('wss-1', 200);
        expect(ok.get('Contact')).toMatch(/;transport=wss>/);
        c.send(c.request('ACK', 'sip:room1@127.0.0.1', { callId: 'wss-1', cseq: 1, toTag: ok.toTag }));
        void session.bye();
        expect((await c.requestFor('wss-1', 'BYE')).topVia.transport).toBe('WSS');
        // Plain ws:// to a TLS port is not a WebSocket at all.
        await expect(WsSipClient.connect(`ws://127.0.0.1:${port}/`)).rejects.toThrow();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  );
});

/**
 * The join page as a browser's security sees it: a Content-Security-Policy that allows only its
 * own script and refuses to be framed, and the SIP WebSocket open to its own origin and the
 * ones the application lists (`webSocket.allowedOrigins`), not to any page on the web, and
 * nothing at all for a page whose own domain was re-pointed at the engine (DNS rebinding).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Engine,
  ConferenceLifetimeControl,
  ConferencePartyMediaSettings,
  State
} from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';
import { WsSipClient } from '../support/ws-sip-client.js';
import { httpRequest, rawHttpRequest, type HttpReply } from '../support/http-request.js';
import { testSdp } from '../support/sip-sdp.js';

let engine: Engine;
let port: number;
let sipPort: number;

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: {
      port: 0,
      joinPage: true,
      allowedOrigins: ['https://app.example.com'],
      allowedHosts: ['rooms.example.com']
    },
    rtp: { minPort: 55100, maxPort: 55199 },
    access: { sip: { deny: ['127.0.0.3/32'] } },
    logLevel: 'silent'
  });
  engine.on('call', async (channel) => {
    if ((await channel.answer()) !== State.ANSWERED) return;
    await channel.transferToConferenceRoom(engine.createChannel(), 'listed', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false })
    });
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
  port = engine.sipAddresses().find((a) => a.protocol === 'ws')!.port;
});

afterAll(async () => {
  await engine?.stop();
});

/** GET `path` on the join page's port from a chosen loopback address: status and JSON body. */
function getFrom(localAddress: string, path: string): Promise<HttpReply> {
  return httpRequest({ port, path, localAddress });
}

describe('the join page', () => {
  it('shows who is in a room to the browser call its 200 OK gave a token, while that call is in the room; to no one else, whatever their address', async () => {
    const phone = await TonePhone.create({ toneHz: null, user: 'member', displayName: 'Alice Member' });
    const browser = await WsSipClient.connect(`ws://127.0.0.1:${port}/sip`);
    const asked = (path: string, token: string | undefined, from = '127.0.0.1'): Promise<HttpReply> =>
      httpRequest({
        port,
        path,
        localAddress: from,
        headers: token ? { Authorization: `Bearer ${token}` } : {}
      });
    try {
      // A phone over UDP is in the room from the same address as everyone below: no pass for it.
      await phone.call(`sip:listed@127.0.0.1:${sipPort}`);
      await waitFor(() => engine.rooms.get('listed')?.size === 1, 15000);
      expect(JSON.parse((await asked('/api/rooms/listed', undefined)).body)).toEqual({
        room: 'listed',
        participants: []
      });

      browser.send(
        browser.request('INVITE', 'sip:listed@127.0.0.1', { callId: 'roster-1', body: testSdp(4000) })
      );
      const ok = await browser.response('roster-1', 200);
      const token = ok.get('X-Roster-Token');
      expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
      browser.send(
        browser.request('ACK', 'sip:listed@127.0.0.1', { callId: 'roster-1', toTag: ok.toTag, cseq: 1 })
      );
      await waitFor(() => engine.rooms.get('listed')?.size === 2, 15000);

      const member = await asked('/api/rooms/listed', token);
      expect(member.status).toBe(200);
      expect(JSON.parse(member.body).participants).toHaveLength(2);
      // The token is the call's, not its address's: from another address it still works ...
      expect(
        JSON.parse((await asked('/api/rooms/listed', token, '127.0.0.2')).body).participants
      ).toHaveLength(2);
      // ... and shows no other room, and a guess or a stranger with no token learns nothing:
      // neither the names nor that the room exists.
      for (const [path, pass] of [
        ['/api/rooms/other', token],
        ['/api/rooms/listed', 'A'.repeat(22)],
        ['/api/rooms/listed', undefined]
      ] as const) {
        const reply = JSON.parse((await asked(path, pass)).body) as { participants: unknown[] };
        expect(reply.participants, `${path} ${pass}`).toEqual([]);
      }
      expect((await getFrom('127.0.0.3', '/')).status).toBe(403);
      expect((await asked('/api/rooms/listed', token, '127.0.0.3')).status).toBe(403);

      // Once the call has left, its token shows nothing.
      browser.send(
        browser.request('BYE', 'sip:listed@127.0.0.1', { callId: 'roster-1', toTag: ok.toTag, cseq: 2 })
      );
      await browser.response('roster-1', 200, 10_000);
      await waitFor(() => engine.rooms.get('listed')?.size === 1, 15000);
      expect(JSON.parse((await asked('/api/rooms/listed', token)).body).participants).toEqual([]);
    } finally {
      await browser.close();
      await phone.close();
    }
  });

  it('is served with a CSP of its own script and styles, and may not be framed', async () => {
    for (const path of ['/', '/join-page.js', '/api/rooms/x', '/nothing']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
    }
  });

  it('refuses the page, the participant list and the SIP WebSocket to a Host not its own (421), and serves IP literals, localhost and listed names', async () => {
    // evil.example re-pointed at 127.0.0.1: to the browser the engine is then evil.example's own
    // origin, Origin header included; only Host names the domain the page came from.
    const rebound = `evil.example:${port}`;
    for (const path of ['/', '/join-page.js', '/api/rooms/listed', '/nothing']) {
      const refused = await httpRequest({ port, path, host: rebound });
      expect(refused.status, path).toBe(421);
      expect(refused.body, path).toMatch(/^misdirected request/);
    }
    expect((await httpRequest({ port, path: '/', host: null })).status).toBe(421);
    // RFC 9112 §3.2: two Host headers get 400, whichever comes first (Node keeps the first).
    const twoHosts = (extra = ''): string =>
      `GET /sip HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nHost: ${rebound}\r\n${extra}Connection: close\r\n\r\n`;
    expect((await rawHttpRequest(port, twoHosts())).status).toBe(400);
    const upgrade =
      'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n';
    expect(
      (await rawHttpRequest(port, twoHosts(upgrade).replace('Connection: close', 'Connection: Upgrade')))
        .status
    ).toBe(400);
    await expect(
      WsSipClient.connect(`ws://127.0.0.1:${port}/sip`, ['sip'], {
        headers: { Host: rebound },
        origin: `http://${rebound}`
      })
    ).rejects.toThrow(/handshake refused: 421/);
    for (const host of [
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      `localhost:${port}`,
      `rooms.example.com:${port}`
    ]) {
      expect((await httpRequest({ port, path: '/', host })).status, host).toBe(200);
      const list = await httpRequest({ port, path: '/api/rooms/empty', host });
      expect(JSON.parse(list.body), host).toEqual({ room: 'empty', participants: [] });
      const client = await WsSipClient.connect(`ws://127.0.0.1:${port}/sip`, ['sip'], {
        headers: { Host: host },
        origin: `http://${host}`
      });
      await client.close();
    }
  });

  it("opens the SIP WebSocket to its own origin and the listed one's, refuses another (403)", async () => {
    const url = `ws://127.0.0.1:${port}/sip`;
    for (const origin of [`http://127.0.0.1:${port}`, 'https://app.example.com']) {
      const client = await WsSipClient.connect(url, ['sip'], { origin });
      await client.close();
    }
    await expect(WsSipClient.connect(url, ['sip'], { origin: 'https://evil.example' })).rejects.toThrow(
      /handshake refused: 403/
    );
  });
});

/**
 * The join page as a browser's security sees it: a Content-Security-Policy that allows only its
 * own script and refuses to be framed, and the SIP WebSocket open to its own origin and the
 * ones the application lists (`webSocket.allowedOrigins`), not to any page on the web.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';
import { WsSipClient } from '../support/ws-sip-client.js';

let engine: Engine;
let port: number;

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: { port: 0, joinPage: true, allowedOrigins: ['https://app.example.com'] },
    rtp: { minPort: 55100, maxPort: 55199 },
    logLevel: 'silent'
  });
  await engine.start();
  port = engine.sipAddresses().find((a) => a.protocol === 'ws')!.port;
});

afterAll(async () => {
  await engine?.stop();
});

describe('the join page', () => {
  it('is served with a CSP of its own script and styles, and may not be framed', async () => {
    for (const path of ['/', '/join-page.js', '/api/rooms/x', '/nothing']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
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

/**
 * `npm start`'s door from environment variables: parsing, the open-door warning, and the real
 * entry (engine/main.ts) refusing a denied source with 403 and answering its join page by the
 * host names UASMEDIA_ALLOWED_HOSTS lists.
 */
import { afterEach, describe, it, expect } from 'vitest';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { get as httpsGet } from 'node:https';
import { doorFromEnvironment, isLoopbackHost, openDoorWarning } from '../../engine/app/env-options.js';
import type { SipRequest, SipResponse } from '../../sip/message/message.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';
import { makeTestCertificate } from '../support/tls-certificate.js';
import { hasPeer } from '../support/peers.js';
import { killStartedMains, mainRefusing, startMain } from '../support/npm-start.js';

afterEach(killStartedMains);

describe('doorFromEnvironment', () => {
  it('is open, with the overload guard on, when nothing is set', () => {
    const door = doorFromEnvironment({});
    expect(door).toMatchObject({
      access: undefined,
      callLimits: undefined,
      overloadGuard: true,
      registrations: [],
      allowedHosts: undefined,
      webrtcTransports: undefined
    });
    expect(door.roomPins.size).toBe(0);
  });

  it('reads source lists, users, ceilings, the guard switch and room PINs', async () => {
    const door = doorFromEnvironment({
      UASMEDIA_SIP_ALLOW: '192.168.1.0/24, 127.0.0.1',
      UASMEDIA_SIP_DENY: '192.168.1.66',
      UASMEDIA_SIP_REFUSE: 'silent',
      UASMEDIA_TRUSTED_PROXIES: '192.168.1.5, 10.1.0.0/16',
      UASMEDIA_RTP_ALLOW: '192.168.1.0/24',
      UASMEDIA_SIP_USERS: 'alice:wonder:land,bob:pw',
      UASMEDIA_AUTH_REALM: 'example.org',
      UASMEDIA_MAX_CALLS: '200',
      UASMEDIA_CALLS_PER_SECOND_PER_SOURCE: '5',
      UASMEDIA_OVERLOAD_GUARD: 'off',
      UASMEDIA_ROOM_PINS: 'room42=1234,sales=9999',
      UASMEDIA_ALLOWED_HOSTS: 'myhost, *.rooms.example.org',
      UASMEDIA_WEBRTC_TRANSPORTS: 'ws, udp'
    });
    expect(door.access?.sip).toEqual({
      allow: ['192.168.1.0/24', '127.0.0.1'],
      deny: ['192.168.1.66'],
      refuse: 'silent'
    });
    expect(door.access?.trustedProxies).toEqual(['192.168.1.5', '10.1.0.0/16']);
    expect(door.access?.rtp).toEqual({ allow: ['192.168.1.0/24'], deny: undefined });
    expect(door.access?.auth?.realm).toBe('example.org');
    const lookup = door.access!.auth!.credentials;
    expect(await lookup('example.org', 'alice', {} as SipRequest)).toEqual({ password: 'wonder:land' });
    expect(await lookup('example.org', 'carol', {} as SipRequest)).toBeUndefined();
    expect(door.callLimits).toEqual({
      maxCalls: 200,
      maxCallsPerSource: undefined,
      callsPerSecond: undefined,
      callsPerSecondPerSource: 5
    });
    expect(door.overloadGuard).toBe(false);
    expect([...door.roomPins]).toEqual([
      ['room42', '1234'],
      ['sales', '9999']
    ]);
    expect(door.allowedHosts).toEqual(['myhost', '*.rooms.example.org']);
    expect(door.webrtcTransports).toEqual(['ws', 'udp']);
  });

  it('reads one upstream registration', () => {
    const door = doorFromEnvironment({
      UASMEDIA_REGISTRAR: 'sip:trunk.example.org',
      UASMEDIA_REGISTER_AOR: 'sip:room42@trunk.example.org',
      UASMEDIA_REGISTER_USER: 'room42',
      UASMEDIA_REGISTER_PASSWORD: 'pw',
      UASMEDIA_REGISTER_EXPIRES: '300'
    });
    expect(door.registrations).toEqual([
      {
        registrar: 'sip:trunk.example.org',
        aor: 'sip:room42@trunk.example.org',
        username: 'room42',
        password: 'pw',
        expiresSeconds: 300
      }
    ]);
    expect(() => doorFromEnvironment({ UASMEDIA_REGISTRAR: 'sip:x' })).toThrow(/needs UASMEDIA_REGISTER_AOR/);
    expect(() =>
      doorFromEnvironment({
        UASMEDIA_REGISTRAR: 'sip:x',
        UASMEDIA_REGISTER_AOR: 'sip:a@x',
        UASMEDIA_REGISTER_USER: 'a'
      })
    ).toThrow(/go together/);
  });

  it('names the variable that is wrong', () => {
    expect(() => doorFromEnvironment({ UASMEDIA_SIP_REFUSE: 'drop' })).toThrow(
      /UASMEDIA_SIP_REFUSE must be 'forbidden' or 'silent'/
    );
    expect(() => doorFromEnvironment({ UASMEDIA_MAX_CALLS: 'lots' })).toThrow(
      /UASMEDIA_MAX_CALLS must be a whole number/
    );
    expect(() => doorFromEnvironment({ UASMEDIA_SIP_USERS: 'alice' })).toThrow(/must be user:password/);
    expect(() => doorFromEnvironment({ UASMEDIA_ROOM_PINS: 'room 42=12' })).toThrow(/room=digits/);
    expect(() => doorFromEnvironment({ UASMEDIA_ROOM_PINS: 'room42=12ab' })).toThrow(/room=digits/);
    expect(() => doorFromEnvironment({ UASMEDIA_OVERLOAD_GUARD: 'maybe' })).toThrow(
      /UASMEDIA_OVERLOAD_GUARD/
    );
    expect(() => doorFromEnvironment({ UASMEDIA_WEBRTC_TRANSPORTS: 'ws,sctp' })).toThrow(
      /UASMEDIA_WEBRTC_TRANSPORTS must list ws, udp, tcp, tls; got 'sctp'/
    );
    // A bad CIDR entry had stopped npm start with a stack trace naming no variable.
    for (const name of [
      'UASMEDIA_SIP_ALLOW',
      'UASMEDIA_SIP_DENY',
      'UASMEDIA_TRUSTED_PROXIES',
      'UASMEDIA_RTP_ALLOW',
      'UASMEDIA_RTP_DENY'
    ])
      expect(() => doorFromEnvironment({ [name]: '10.0.0.0/8, 300.0.0.0/8' })).toThrow(
        `${name}=10.0.0.0/8, 300.0.0.0/8: ${name} list entry '300.0.0.0/8' must be an IPv4 or IPv6 address or CIDR block`
      );
    expect(doorFromEnvironment({ UASMEDIA_SIP_ALLOW: ' ' }).access).toBeUndefined();
    for (const entry of ['myhost:8088', 'http://myhost', 'my host', 'host/path'])
      expect(() => doorFromEnvironment({ UASMEDIA_ALLOWED_HOSTS: `ok.example,${entry}` })).toThrow(
        `UASMEDIA_ALLOWED_HOSTS entry '${entry}' must be a host name without scheme or port`
      );
  });

  it('warns about a non-loopback address with no access control, and only then', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(openDoorWarning('127.0.0.1', doorFromEnvironment({}))).toBeUndefined();
    expect(openDoorWarning('0.0.0.0', doorFromEnvironment({}))).toMatch(
      /no access control.*UASMEDIA_SIP_ALLOW/
    );
    expect(openDoorWarning('203.0.113.5', doorFromEnvironment({ UASMEDIA_CALLS_PER_SECOND: '10' }))).toMatch(
      /WARNING/
    );
    expect(
      openDoorWarning('0.0.0.0', doorFromEnvironment({ UASMEDIA_SIP_ALLOW: '10.0.0.0/8' }))
    ).toBeUndefined();
    expect(openDoorWarning('0.0.0.0', doorFromEnvironment({ UASMEDIA_SIP_USERS: 'a:b' }))).toBeUndefined();
  });
});

describe('npm start with a deny list', () => {
  it('answers 403 to a denied source and prints no warning on loopback', async () => {
    const main = startMain({ UASMEDIA_SIP_DENY: '127.0.0.2' });
    const stranger = await new UdpTestPeer().open('127.0.0.2');
    try {
      await waitFor(() => main.output().includes('Ctrl-C stops.'), 20000);
      const port = Number(/sip:<room>@127\.0\.0\.1:(\d+)/.exec(main.output())?.[1]);
      expect(port).toBeGreaterThan(0);
      await stranger.send(
        sipText([
          `INVITE sip:demo@127.0.0.1:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.2:${stranger.port};branch=z9hG4bK-env-1`,
          'Max-Forwards: 70',
          'From: <sip:x@127.0.0.2>;tag=e1',
          `To: <sip:demo@127.0.0.1:${port}>`,
          'Call-ID: env-1@127.0.0.2',
          'CSeq: 1 INVITE'
        ]),
        port
      );
      expect(
        ((await stranger.next((m) => (m as SipResponse).status >= 200, 5000)) as SipResponse).status
      ).toBe(403);
      expect(main.output()).not.toMatch(/WARNING/);
      expect(await main.exit(true)).toBe(0);
    } finally {
      await stranger.close();
    }
  }, 40_000);
});

/** The status of GET / on 127.0.0.1:`port` with `Host: host`. */
function statusFor(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('npm start with UASMEDIA_ALLOWED_HOSTS', () => {
  it('serves the join page to a listed host name and 421 to any other', async () => {
    const main = startMain({ UASMEDIA_ALLOWED_HOSTS: 'myhost.example, *.rooms.example' });
    // Generous: tsx compiles the entry on a machine other builds share.
    await waitFor(() => main.output().includes('Ctrl-C stops.') || main.child.exitCode !== null, 120_000);
    const wsPort = Number(/http:\/\/127\.0\.0\.1:(\d+)\/\?room=demo/.exec(main.output())?.[1]);
    expect(wsPort, main.output()).toBeGreaterThan(0);
    expect(await statusFor(wsPort, `myhost.example:${wsPort}`)).toBe(200);
    expect(await statusFor(wsPort, `a.rooms.example:${wsPort}`)).toBe(200);
    expect(await statusFor(wsPort, `127.0.0.1:${wsPort}`)).toBe(200);
    expect(await statusFor(wsPort, `otherhost.example:${wsPort}`)).toBe(421);
    expect(await statusFor(wsPort, `myhost.example.evil:${wsPort}`)).toBe(421);
    expect(await main.exit(true)).toBe(0);
  }, 180_000);

  it('refuses to start on an entry with a port, naming the variable', async () => {
    const { code, output } = await mainRefusing({ UASMEDIA_ALLOWED_HOSTS: 'myhost.example:8088' });
    expect(code).toBe(1);
    expect(output).toMatch(
      /uasmedia: UASMEDIA_ALLOWED_HOSTS entry 'myhost\.example:8088' must be a host name/
    );
  }, 180_000);
});

describe('npm start with UASMEDIA_ADVERTISED_ADDRESS', () => {
  it('refuses a host name, naming the variable (SDP names an IP address)', async () => {
    const { code, output } = await mainRefusing({ UASMEDIA_ADVERTISED_ADDRESS: 'pbx.example.com' });
    expect(code).toBe(1);
    expect(output).toMatch(/uasmedia: UASMEDIA_ADVERTISED_ADDRESS=pbx\.example\.com must be an IP address/);
  }, 180_000);
});

describe('npm start with a bad or empty variable', () => {
  it('refuses a bad CIDR entry with a message naming the variable, not a stack trace', async () => {
    const { code, output } = await mainRefusing({ UASMEDIA_SIP_ALLOW: '10.0.0.0/8,x' });
    expect(code).toBe(1);
    expect(output).toMatch(
      /^uasmedia: UASMEDIA_SIP_ALLOW=10\.0\.0\.0\/8,x: UASMEDIA_SIP_ALLOW list entry 'x'/
    );
    expect(output).not.toMatch(/\bat /);
  }, 180_000);

  it('names UASMEDIA_WS_PORT when the join page port is in use (it said UASMEDIA_SIP_PORT)', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.21.51', resolve));
    const wsPort = (busy.address() as AddressInfo).port;
    try {
      const { code, output } = await mainRefusing({
        UASMEDIA_SIP_HOST: '127.0.21.51',
        UASMEDIA_WS_PORT: String(wsPort)
      });
      expect(code).toBe(1);
      expect(output).toContain(
        `Is another server using port ${wsPort}? Choose another with UASMEDIA_WS_PORT`
      );
    } finally {
      busy.close();
    }
  }, 180_000);

  it('takes UASMEDIA_SIP_HOST set empty as unset: 127.0.0.1, not every interface', async () => {
    const main = startMain({ UASMEDIA_SIP_HOST: '' });
    await waitFor(() => main.output().includes('Ctrl-C stops.') || main.child.exitCode !== null, 120_000);
    expect(main.output()).toMatch(/sip:<room>@127\.0\.0\.1:\d+ /);
    expect(main.output()).not.toMatch(/WARNING/);
    expect(await main.exit(true)).toBe(0);
  }, 180_000);
});

describe('npm start with a TLS certificate', () => {
  it.runIf(hasPeer('openssl'))(
    'serves the join page over HTTPS with it (a browser off loopback gives a microphone only there)',
    async () => {
      const certificate = makeTestCertificate(['rooms.example']);
      const main = startMain({
        UASMEDIA_TLS_CERT: certificate.certPath,
        UASMEDIA_TLS_KEY: certificate.keyPath,
        UASMEDIA_TLS_PORT: '0'
      });
      try {
        await waitFor(() => main.output().includes('Ctrl-C stops.') || main.child.exitCode !== null, 120_000);
        const wsPort = Number(/https:\/\/127\.0\.0\.1:(\d+)\/\?room=demo/.exec(main.output())?.[1]);
        expect(wsPort, main.output()).toBeGreaterThan(0);
        const page = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
          const req = httpsGet(
            {
              host: '127.0.0.1',
              port: wsPort,
              path: '/',
              ca: certificate.cert,
              servername: 'rooms.example',
              headers: { Host: `rooms.example:${wsPort}` }
            },
            (res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () => resolve({ status: res.statusCode, body }));
            }
          );
          req.on('error', reject);
        });
        expect(page.status).toBe(200);
        expect(page.body).toContain('join-page.js');
        expect(await main.exit(true)).toBe(0);
      } finally {
        certificate.remove();
      }
    },
    180_000
  );
});

/**
 * `npm start`'s door from environment variables: parsing, the open-door warning, and the real
 * entry (engine/main.ts) refusing a denied source with 403.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { doorFromEnvironment, isLoopbackHost, openDoorWarning } from '../../engine/app/env-options.js';
import type { SipRequest, SipResponse } from '../../sip/message/message.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';

describe('doorFromEnvironment', () => {
  it('is open, with the overload guard on, when nothing is set', () => {
    const door = doorFromEnvironment({});
    expect(door).toMatchObject({
      access: undefined,
      callLimits: undefined,
      overloadGuard: true,
      registrations: []
    });
    expect(door.roomPins.size).toBe(0);
  });

  it('reads source lists, users, ceilings, the guard switch and room PINs', async () => {
    const door = doorFromEnvironment({
      UASMEDIA_SIP_ALLOW: '192.168.1.0/24, 127.0.0.1',
      UASMEDIA_SIP_DENY: '192.168.1.66',
      UASMEDIA_SIP_REFUSE: 'silent',
      UASMEDIA_RTP_ALLOW: '192.168.1.0/24',
      UASMEDIA_SIP_USERS: 'alice:wonder:land,bob:pw',
      UASMEDIA_AUTH_REALM: 'example.org',
      UASMEDIA_MAX_CALLS: '200',
      UASMEDIA_CALLS_PER_SECOND_PER_SOURCE: '5',
      UASMEDIA_OVERLOAD_GUARD: 'off',
      UASMEDIA_ROOM_PINS: 'room42=1234,sales=9999'
    });
    expect(door.access?.sip).toEqual({
      allow: ['192.168.1.0/24', '127.0.0.1'],
      deny: ['192.168.1.66'],
      refuse: 'silent'
    });
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
    const main = fileURLToPath(new URL('../../engine/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: {
        ...process.env,
        UASMEDIA_SIP_PORT: '0',
        UASMEDIA_WS_PORT: '0',
        UASMEDIA_LOG_LEVEL: 'warn',
        UASMEDIA_SIP_DENY: '127.0.0.2'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const stranger = await new UdpTestPeer().open('127.0.0.2');
    try {
      await waitFor(() => out.includes('Ctrl-C stops.'), 20000);
      const port = Number(/sip:<room>@127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
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
      expect(err).not.toMatch(/WARNING/);
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      await stranger.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 40_000);
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DigestParseError,
  DigestUnsupportedError,
  computeAuthorization,
  createChallenge,
  parseAuthorization,
  parseChallenge,
  selectChallenge,
  verifyAuthorization,
  type DigestAlgorithm
} from '../../sip/auth/digest.js';

/** mulberry32: seeded PRNG so the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// RFC 2617 §3.5, the header value as printed (folded over several lines).
const RFC2617_CHALLENGE = `Digest
                 realm="testrealm@host.com",
                 qop="auth,auth-int",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41"`;

// RFC 7616 §3.9.1, with the algorithm set per case.
const rfc7616Challenge = (algorithm: string): string => `Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=${algorithm},
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;

describe('parseChallenge', () => {
  it('reads the RFC 2617 §3.5 challenge', () => {
    expect(parseChallenge(RFC2617_CHALLENGE)).toEqual({
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      algorithm: 'MD5',
      qop: ['auth', 'auth-int'],
      stale: false,
      userhash: false
    });
  });

  it('tolerates spacing, case, ordering, empty list items, bare tokens and base64 nonces', () => {
    const challenge = parseChallenge(
      '  digest  NONCE = "n1" ,, Stale=TRUE,algorithm="sha-256-SESS" ,realm=sip.example.com, qop=auth-int , opaque=ab/c+d=='
    );
    expect(challenge).toMatchObject({
      realm: 'sip.example.com',
      nonce: 'n1',
      algorithm: 'SHA-256-sess',
      qop: ['auth-int'],
      stale: true,
      opaque: 'ab/c+d=='
    });
  });

  it('unescapes quoted-pairs inside quoted strings', () => {
    expect(parseChallenge('Digest realm="a \\"quoted\\" \\\\ realm", nonce="x"').realm).toBe(
      'a "quoted" \\ realm'
    );
  });

  const garbage: Array<[string, string]> = [
    ['empty', ''],
    ['scheme only', 'Digest'],
    ['name without value', 'Digest realm'],
    ['missing comma', 'Digest realm="a" nonce="b"'],
    ['unterminated quote', 'Digest realm="a, nonce="b'],
    ['duplicate parameter', 'Digest realm="a", realm="b", nonce="c"'],
    ['no nonce', 'Digest realm="a"'],
    ['no realm', 'Digest nonce="a"'],
    ['empty bare value', 'Digest realm=, nonce="a"'],
    ['leading comma', ', realm="a"'],
    // A bare CR went into our Authorization header: a header break to a lenient parser.
    ['CR in a quoted string', 'Digest realm="r\rRoute: <sip:evil.example;lr>", nonce="a"'],
    ['escaped LF in a quoted string', 'Digest realm="r\\\n", nonce="a"'],
    ['NUL in a quoted string', 'Digest realm="r\u0000", nonce="a"']
  ];
  it.each(garbage)('throws DigestParseError on garbage: %s', (_name, value) => {
    expect(() => parseChallenge(value)).toThrow(DigestParseError);
  });

  it('throws DigestUnsupportedError for another scheme, algorithm or qop', () => {
    expect(() => parseChallenge('Basic realm="a"')).toThrow(DigestUnsupportedError);
    expect(() => parseChallenge('Digest realm="a", nonce="b", algorithm=SHA-1')).toThrow(/algorithm "SHA-1"/);
    expect(() => parseChallenge('Digest realm="a", nonce="b", qop="auth-conf"')).toThrow(
      DigestUnsupportedError
    );
  });

  it('never throws anything but the typed errors on 3000 seeded mutations', () => {
    const random = prng(0xd16e57);
    const sources = [RFC2617_CHALLENGE, rfc7616Challenge('SHA-256')];
    const alphabet = '",=\\ \tabDigest';
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const chars = [...sources[i % 2]];
      for (let e = 0; e < 1 + Math.floor(random() * 3); e++) {
        const at = Math.floor(random() * chars.length);
        if (random() < 0.5) chars[at] = alphabet[Math.floor(random() * alphabet.length)];
        else chars.splice(at, 1 + Math.floor(random() * 5));
      }
      try {
        parseChallenge(chars.join(''));
        parsed++;
      } catch (error) {
        expect(error instanceof DigestParseError || error instanceof DigestUnsupportedError).toBe(true);
      }
    }
    expect(parsed).toBeGreaterThan(100);
    expect(parsed).toBeLessThan(3000);
  });
});

describe('selectChallenge', () => {
  it('answers the topmost challenge we support (RFC 8760 §2.4)', () => {
    const chosen = selectChallenge([
      'Digest realm="a", nonce="1", algorithm=SHA-1',
      'Digest realm="a", nonce="2", algorithm=SHA-256',
      'Digest realm="a", nonce="3", algorithm=MD5'
    ]);
    expect(chosen).toMatchObject({ nonce: '2', algorithm: 'SHA-256' });
    expect(() => selectChallenge(['Basic realm="x"'])).toThrow(DigestUnsupportedError);
    expect(() => selectChallenge([])).toThrow(DigestParseError);
  });

  it('answers only a challenge of the realm the credentials are pinned to', () => {
    const challenges = [
      'Digest realm="provider.example", nonce="1"',
      'Digest realm="ours.example", nonce="2"'
    ];
    expect(selectChallenge(challenges, 'ours.example')).toMatchObject({ nonce: '2' });
    expect(() => selectChallenge([challenges[0]], 'ours.example')).toThrow(/realm "provider.example"/);
    expect(selectChallenge(challenges)).toMatchObject({ nonce: '1' }); // not pinned: as before
  });
});

describe('computeAuthorization', () => {
  it('reproduces the RFC 2617 §3.5 response', () => {
    const header = computeAuthorization(
      parseChallenge(RFC2617_CHALLENGE),
      { username: 'Mufasa', password: 'Circle Of Life' },
      { method: 'GET', uri: '/dir/index.html' },
      1,
      '0a4f113b'
    );
    const credentials = parseAuthorization(header);
    expect(credentials).toMatchObject({
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      response: '6629fae49393a05397450978507c4ef1'
    });
    expect(header).toMatch(/^Digest username="Mufasa", realm="testrealm@host.com", /);
    expect(header).toContain(', qop=auth, nc=00000001');
  });

  it.each([
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1']
  ])('reproduces the RFC 7616 §3.9.1 %s response', (algorithm, expected) => {
    const header = computeAuthorization(
      parseChallenge(rfc7616Challenge(algorithm)),
      { username: 'Mufasa', password: 'Circle of Life' },
      { method: 'GET', uri: '/dir/index.html' },
      1,
      'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ'
    );
    expect(parseAuthorization(header)).toMatchObject({ response: expected, algorithm, qop: 'auth' });
    expect(header).toContain(`algorithm=${algorithm}`);
  });

  it('uses the RFC 2069 form, without qop, cnonce or nc, when the challenge offers no qop', () => {
    const header = computeAuthorization(
      parseChallenge(
        'Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
      ),
      { username: 'Mufasa', password: 'CircleOfLife' },
      { method: 'GET', uri: '/dir/index.html' },
      1
    );
    expect(parseAuthorization(header).response).toBe('1949323746fe6a43ef61f9606e7febea');
    expect(header).not.toMatch(/cnonce|qop|nc=/);
  });

  it('writes nc in 8 lower-case hex digits and rejects counts out of range', () => {
    const challenge = parseChallenge(RFC2617_CHALLENGE);
    const creds = { username: 'alice', password: 'pw' };
    const request = { method: 'INVITE', uri: 'sip:bob@example.com' };
    expect(computeAuthorization(challenge, creds, request, 0x1a, 'c')).toContain('nc=0000001a');
    expect(() => computeAuthorization(challenge, creds, request, 0, 'c')).toThrow(RangeError);
    expect(() => computeAuthorization(challenge, creds, request, 2 ** 32, 'c')).toThrow(RangeError);
    // Without a cnonce given, a fresh random one is used each time.
    const a = parseAuthorization(computeAuthorization(challenge, creds, request, 1));
    const b = parseAuthorization(computeAuthorization(challenge, creds, request, 1));
    expect(a.cnonce).toMatch(/^[0-9a-f]{32}$/);
    expect(a.cnonce).not.toBe(b.cnonce);
  });
});

describe('verifyAuthorization (server side)', () => {
  const invite = {
    method: 'INVITE',
    uri: 'sip:bob@biloxi.example.com',
    body: 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n'
  };
  const algorithms: DigestAlgorithm[] = [
    'MD5',
    'MD5-sess',
    'SHA-256',
    'SHA-256-sess',
    'SHA-512-256',
    'SHA-512-256-sess'
  ];

  it.each(algorithms)(
    'accepts a UAC answer computed with %s, for auth and auth-int, and rejects a wrong password',
    (algorithm) => {
      for (const qop of [['auth'], ['auth-int']] as const) {
        const challengeText = createChallenge({
          realm: 'biloxi.example.com',
          nonce: 'n-42',
          opaque: 'op',
          algorithm,
          qop: [...qop]
        });
        const header = computeAuthorization(
          parseChallenge(challengeText),
          { username: 'bob', password: 'zanzibar' },
          invite,
          3,
          'cn'
        );
        const expected = {
          realm: 'biloxi.example.com',
          nonce: 'n-42',
          opaque: 'op',
          uri: invite.uri,
          method: 'INVITE',
          body: invite.body
        };
        expect(verifyAuthorization(header, { ...expected, password: 'zanzibar' })).toEqual({
          ok: true,
          username: 'bob',
          nonceCount: 3,
          qop: qop[0]
        });
        expect(verifyAuthorization(header, { ...expected, password: 'Zanzibar' })).toEqual({
          ok: false,
          reason: 'response'
        });
        if (qop[0] === 'auth-int') {
          // auth-int covers the body: a changed body fails.
          expect(
            verifyAuthorization(header, { ...expected, password: 'zanzibar', body: invite.body + 'x' })
          ).toMatchObject({ ok: false });
        }
      }
    }
  );

  it('checks realm, nonce, opaque and uri when told to, and reports malformed credentials', () => {
    const challenge = parseChallenge(createChallenge({ realm: 'r', nonce: 'n', opaque: 'o' }));
    const header = computeAuthorization(
      challenge,
      { username: 'u', password: 'p' },
      { method: 'BYE', uri: 'sip:x@y' },
      1,
      'c'
    );
    const base = { password: 'p', method: 'BYE' };
    expect(verifyAuthorization(header, base).ok).toBe(true);
    expect(verifyAuthorization(header, { ...base, realm: 'other' })).toEqual({ ok: false, reason: 'realm' });
    expect(verifyAuthorization(header, { ...base, nonce: 'old' })).toEqual({ ok: false, reason: 'nonce' });
    expect(verifyAuthorization(header, { ...base, opaque: 'x' })).toEqual({ ok: false, reason: 'opaque' });
    expect(verifyAuthorization(header, { ...base, uri: 'sip:z@y' })).toEqual({ ok: false, reason: 'uri' });
    expect(verifyAuthorization(header, { ...base, username: 'v' })).toEqual({
      ok: false,
      reason: 'username'
    });
    expect(verifyAuthorization(header, { ...base, method: 'INVITE' })).toEqual({
      ok: false,
      reason: 'response'
    });
    expect(verifyAuthorization('Digest username="u"', base)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyAuthorization('garbage "', base)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('verifies an nc written in upper-case hex over the text exactly as sent', () => {
    // A client that writes nc in upper case hashes the upper-case text (RFC 2617 §3.2.2.1).
    const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
    const ha1 = md5('u:r:p');
    const ha2 = md5('INVITE:sip:a@b');
    const response = md5(`${ha1}:n:0000000A:c:auth:${ha2}`);
    const header = `Digest username="u", realm="r", nonce="n", uri="sip:a@b", response="${response}", qop=auth, nc=0000000A, cnonce="c"`;
    expect(verifyAuthorization(header, { password: 'p', method: 'INVITE' })).toEqual({
      ok: true,
      username: 'u',
      nonceCount: 10,
      qop: 'auth'
    });
    expect(
      verifyAuthorization(header.replace('nc=0000000A', 'nc=0000000a'), { password: 'p', method: 'INVITE' })
    ).toEqual({ ok: false, reason: 'response' });
  });

  it('hashes the username when the challenge asks for userhash (RFC 7616 §3.4.4)', () => {
    const challenge = parseChallenge(
      'Digest realm="api@example.org", nonce="n", qop="auth", algorithm=SHA-256, userhash=true'
    );
    const header = computeAuthorization(
      challenge,
      { username: 'alice', password: 'pw' },
      { method: 'REGISTER', uri: 'sip:example.org' },
      1,
      'c'
    );
    const parsed = parseAuthorization(header);
    expect(parsed.userhash).toBe(true);
    expect(parsed.username).toMatch(/^[0-9a-f]{64}$/);
    expect(header).not.toContain('alice');
    expect(verifyAuthorization(header, { username: 'alice', password: 'pw', method: 'REGISTER' })).toEqual({
      ok: true,
      username: 'alice',
      nonceCount: 1,
      qop: 'auth'
    });
    expect(verifyAuthorization(header, { username: 'mallory', password: 'pw', method: 'REGISTER' })).toEqual({
      ok: false,
      reason: 'username'
    });
  });
});

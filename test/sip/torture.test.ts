/**
 * RFC 4475 / RFC 5118 torture messages fed to a running user agent over a real UDP socket:
 * each gets the answer a UAS owes it (or is dropped), and the agent keeps serving.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipResponse } from '../../sip/message/message.js';
import { parseMessage } from '../../sip/message/parser.js';
import { ACCEPTED_BODY_TYPES } from '../../sip/message/session-body.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);

/** Final status each request must get; null = the message must be dropped (no answer). */
const EXPECTED: Array<[string, number | null]> = [
  // wsinv carries a To tag: a re-INVITE for a dialog we do not know (§12.2.2).
  ['rfc4475/wsinv.dat', 481],
  ['rfc4475/intmeth.dat', 501],
  ['rfc4475/esc01.dat', 486],
  ['rfc4475/escnull.dat', 405],
  ['rfc4475/esc02.dat', 501],
  ['rfc4475/lwsdisp.dat', 200],
  ['rfc4475/longreq.dat', 486],
  ['rfc4475/dblreq.dat', 405],
  ['rfc4475/semiuri.dat', 200],
  ['rfc4475/transports.dat', 200],
  ['rfc4475/mpart01.dat', 405],
  ['rfc4475/unreason.dat', null],
  ['rfc4475/noreason.dat', null],
  // Its Via itself is broken (";;,;,,"): there is nowhere defined to answer (§18.2.2), so drop.
  ['rfc4475/badinv01.dat', null],
  ['rfc4475/clerr.dat', 400],
  ['rfc4475/ncl.dat', 400],
  ['rfc4475/scalar02.dat', 400],
  ['rfc4475/scalarlg.dat', null],
  ['rfc4475/quotbal.dat', 400],
  ['rfc4475/ltgtruri.dat', 400],
  ['rfc4475/lwsruri.dat', 400],
  ['rfc4475/lwsstart.dat', 400],
  ['rfc4475/trws.dat', 400],
  ['rfc4475/escruri.dat', 400],
  ['rfc4475/baddate.dat', 400],
  ['rfc4475/regbadct.dat', 400],
  ['rfc4475/badaspec.dat', 400],
  ['rfc4475/baddn.dat', 400],
  ['rfc4475/badvers.dat', 505],
  ['rfc4475/mismatch01.dat', 400],
  ['rfc4475/mismatch02.dat', 400],
  ['rfc4475/bigcode.dat', null],
  ['rfc4475/badbranch.dat', 200],
  ['rfc4475/insuf.dat', 400],
  ['rfc4475/unkscm.dat', 416],
  ['rfc4475/novelsc.dat', 416],
  ['rfc4475/unksm2.dat', 405],
  ['rfc4475/bext01.dat', 420],
  ['rfc4475/invut.dat', 415],
  ['rfc4475/regaut01.dat', 405],
  ['rfc4475/multi01.dat', 400],
  ['rfc4475/mcl01.dat', 400],
  ['rfc4475/bcast.dat', null],
  ['rfc4475/zeromf.dat', 200],
  ['rfc4475/cparam01.dat', 405],
  ['rfc4475/cparam02.dat', 405],
  ['rfc4475/regescrt.dat', 405],
  ['rfc4475/sdp01.dat', 406],
  ['rfc4475/inv2543.dat', 486],
  ['rfc5118/ipv6-good.dat', 405],
  ['rfc5118/ipv6-bad.dat', 400],
  ['rfc5118/port-ambiguous.dat', 405],
  ['rfc5118/port-unambiguous.dat', 405],
  ['rfc5118/via-received-param-with-delim.dat', 481],
  ['rfc5118/via-received-param-no-delim.dat', 200],
  ['rfc5118/ipv6-in-sdp.dat', 486],
  ['rfc5118/mult-ip-in-header.dat', 481],
  ['rfc5118/mult-ip-in-sdp.dat', 486],
  ['rfc5118/ipv4-mapped-ipv6.dat', 486],
  ['rfc5118/ipv6-correct-abnf-2-colons.dat', 200],
  ['rfc5118/ipv6-bug-abnf-3-colons.dat', 200]
];

function fixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

/**
 * Points the top Via at our test peer so that every answer stays on loopback (the vectors
 * name documentation addresses). Only the sent-by host[:port] of the first Via changes.
 */
function viaToPeer(data: Buffer, port: number): Buffer {
  const text = data.toString('latin1');
  const rewritten = text.replace(
    /^((?:Via|v)[ \t]*:\s*SIP\s*\/\s*[\d.]+\s*\/\s*[A-Za-z]+\s+)(\[[^\]]*\]|[^\s;:,]+)(:\d+)?/im,
    `$1127.0.0.1:${port}`
  );
  return Buffer.from(rewritten, 'latin1');
}

function callIdOf(data: Buffer): string {
  const parsed = parseMessage(data, { datagram: true });
  return parsed.kind === 'invalid' ? '' : parsed.message.callId;
}

describe('RFC 4475 / RFC 5118 messages parsed in isolation', () => {
  it('parses every valid request without error and classifies every invalid one', () => {
    for (const [name, status] of EXPECTED) {
      const parsed = parseMessage(fixture(name), { datagram: true });
      if (status === null) {
        expect(
          parsed.kind === 'invalid' || parsed.kind === 'response' || parsed.error !== undefined,
          name
        ).toBe(true);
        continue;
      }
      expect(parsed.kind, name).toBe('request');
      if (parsed.kind !== 'request') continue;
      if (status === 400 || status === 505) expect(parsed.error?.status, name).toBe(status);
      else expect(parsed.error, `${name}: ${parsed.error?.message}`).toBeUndefined();
    }
  });

  it('undoes line folding and compact forms (wsinv, §3.1.1.1)', () => {
    const parsed = parseMessage(fixture('rfc4475/wsinv.dat'));
    if (parsed.kind !== 'request') throw new Error('not a request');
    const req = parsed.message;
    expect(req.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(req.toTag).toBe('1918181833n');
    expect(req.from.displayName).toBe('J Rosenberg \\"');
    expect(req.fromTag).toBe('98asjd8');
    expect(req.vias.map((v) => [v.transport, v.host, v.params.get('branch')])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239']
    ]);
    expect(req.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(req.body.length).toBe(150);
  });

  it('keeps the bracketed IPv6 address whole and the port outside it (RFC 5118 §4.3, §4.4)', () => {
    const ambiguous = parseMessage(fixture('rfc5118/port-ambiguous.dat'));
    const unambiguous = parseMessage(fixture('rfc5118/port-unambiguous.dat'));
    if (ambiguous.kind !== 'request' || unambiguous.kind !== 'request') throw new Error('not requests');
    expect(ambiguous.message.uri).toBe('sip:[2001:db8::10:5070]');
    expect(unambiguous.message.uri).toBe('sip:[2001:db8::10]:5070');
  });

  it('drops overlarge or malformed responses (bigcode, scalarlg) and accepts odd reason phrases', () => {
    expect(parseMessage(fixture('rfc4475/bigcode.dat')).kind).toBe('invalid');
    expect(parseMessage(fixture('rfc4475/scalarlg.dat')).kind).toBe('invalid');
    const unreason = parseMessage(fixture('rfc4475/unreason.dat'));
    expect(unreason.kind).toBe('response');
    expect((unreason as { message: SipResponse }).message.reason).toContain('простое');
    const noreason = parseMessage(fixture('rfc4475/noreason.dat'));
    expect((noreason as { message: SipResponse }).message.reason).toBe('');
  });

  it('ignores bytes past Content-Length in a datagram (§18.3, dblreq and the RFC 5118 LF-counted bodies)', () => {
    const dbl = parseMessage(fixture('rfc4475/dblreq.dat'));
    if (dbl.kind !== 'request') throw new Error('not a request');
    expect(dbl.message.body.length).toBe(0);
    const mapped = parseMessage(fixture('rfc5118/ipv4-mapped-ipv6.dat'));
    if (mapped.kind !== 'request') throw new Error('not a request');
    expect(mapped.message.body.length).toBe(Number(mapped.message.get('Content-Length')));
  });
});

describe('RFC 4475 / RFC 5118 messages sent to a running user agent over UDP', () => {
  let ua: SipUserAgent;
  let peer: UdpTestPeer;
  let port: number;

  beforeAll(async () => {
    ua = new SipUserAgent({
      transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
      timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
    });
    ua.on('invite', (session) => session.reject(486));
    await ua.start();
    port = ua.addresses()[0].port;
    peer = await new UdpTestPeer().open();
  });

  afterAll(async () => {
    await ua.close();
    await peer.close();
  });

  for (const [name, status] of EXPECTED) {
    it(`${name} → ${status ?? 'dropped'}`, async () => {
      // A fresh socket per message: the vectors reuse branches, and with one sent-by they would
      // rightly be taken as retransmissions of each other (§17.2.3).
      const peer = await new UdpTestPeer().open();
      try {
        await exchange(peer, name, status);
      } finally {
        await peer.close();
      }
    });
  }

  async function exchange(peer: UdpTestPeer, name: string, status: number | null): Promise<void> {
    {
      const data = viaToPeer(fixture(name), peer.port);
      const callId = callIdOf(data);
      const isFinal = (m: unknown) => m instanceof SipResponse && m.status >= 200 && m.callId === callId;
      await peer.send(data, port);
      if (status === null) {
        await expect(peer.next(isFinal, 300)).rejects.toThrow(/timed out/);
        return;
      }
      const response = (await peer.next(isFinal)) as SipResponse;
      expect(response.status).toBe(status);
      if (status === 405 || status === 501) expect(response.get('Allow')).toContain('INVITE');
      if (status === 420) expect(response.get('Unsupported')).toContain('nothingSupportsThis');
      if (status === 415) expect(response.get('Accept')).toBe(ACCEPTED_BODY_TYPES);
    }
  }

  it('still answers a normal OPTIONS and INVITE after all of them', async () => {
    await peer.send(
      sipText([
        `OPTIONS sip:ping@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-after;rport`,
        'Max-Forwards: 70',
        'From: <sip:t@127.0.0.1>;tag=a',
        'To: <sip:ping@127.0.0.1>',
        'Call-ID: after-torture',
        'CSeq: 1 OPTIONS'
      ]),
      port
    );
    const ok = (await peer.next(
      (m) => m instanceof SipResponse && m.callId === 'after-torture'
    )) as SipResponse;
    expect(ok.status).toBe(200);
    expect(ok.get('Allow')).toContain('INFO');

    const caller = new SipUserAgent({
      transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
      timers: { t1Ms: 50 }
    });
    await caller.start();
    try {
      const call = caller.invite(`sip:room@127.0.0.1:${port}`, { body: testSdp(4000) });
      await expect(call.established).rejects.toMatchObject({ status: 486 });
    } finally {
      await caller.close();
    }
  });
});

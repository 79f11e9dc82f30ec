/**
 * Reading the session description out of a message body (RFC 5621): application/sdp alone, the
 * SDP part of multipart/mixed beside an ISUP part as SIP-I trunks send it (RFC 3204), the
 * handling=required rule for parts not understood, multipart/alternative, and bodies that do not
 * parse.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_BODY_NESTING,
  MAX_BODY_PARTS,
  readSessionBody,
  sessionDescriptionOf
} from '../../sip/message/session-body.js';

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 192.0.2.1',
  's=-',
  'c=IN IP4 192.0.2.1',
  't=0 0',
  'm=audio 4000 RTP/AVP 0',
  ''
].join('\r\n');
const ISUP = Buffer.from([0x01, 0x00, 0x49, 0x00, 0x00, 0x03, 0x02, 0x00, 0x07, 0x0d, 0x0a, 0x2d, 0x2d]);

function message(contentType: string | undefined, body: Buffer | string, disposition?: string) {
  const headers = new Map<string, string>();
  if (contentType !== undefined) headers.set('content-type', contentType);
  if (disposition !== undefined) headers.set('content-disposition', disposition);
  return {
    get: (name: string) => headers.get(name.toLowerCase()),
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')
  };
}

/** A multipart body with CRLF line ends; each part is its header lines and its content. */
function multipart(boundary: string, parts: Array<{ headers: string[]; content: Buffer | string }>): Buffer {
  const chunks: Buffer[] = [Buffer.from('preamble a MIME reader ignores\r\n')];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers.map((h) => `${h}\r\n`).join('')}\r\n`));
    chunks.push(Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\nepilogue\r\n`));
  return Buffer.concat(chunks);
}

const sdpPart = { headers: ['Content-Type: application/sdp'], content: SDP };
const isupPart = (disposition: string) => ({
  headers: ['Content-Type: application/ISUP;version=itu-t92+', `Content-Disposition: ${disposition}`],
  content: ISUP
});

describe('readSessionBody', () => {
  it('reads application/sdp, and no body as none', () => {
    expect(readSessionBody(message('application/sdp', SDP))).toEqual({ kind: 'sdp', sdp: SDP });
    expect(readSessionBody(message('Application/SDP; charset=utf-8', SDP))).toEqual({
      kind: 'sdp',
      sdp: SDP
    });
    expect(readSessionBody(message(undefined, ''))).toEqual({ kind: 'none' });
  });

  it('takes the SDP part of a SIP-I body and skips the ISUP part marked handling=optional', () => {
    const body = multipart('unique-boundary-1', [sdpPart, isupPart('signal;handling=optional')]);
    expect(readSessionBody(message('multipart/mixed;boundary=unique-boundary-1', body))).toEqual({
      kind: 'sdp',
      sdp: SDP
    });
    // The same with the ISUP part first, a quoted boundary holding characters a token may not, and bare LF line ends.
    const boundary = "b:1=2'(x)";
    const lf = multipart(boundary, [isupPart('signal; handling=OPTIONAL'), sdpPart])
      .toString('latin1')
      .replaceAll('\r\n', '\n');
    expect(
      sessionDescriptionOf(message(`multipart/mixed; boundary="${boundary}"`, Buffer.from(lf, 'latin1')))
    ).toBe(SDP.replaceAll('\r\n', '\n'));
  });

  it('refuses with 415 a part it does not understand unless it is optional (handling defaults to required)', () => {
    for (const disposition of ['signal;handling=required', 'signal']) {
      const body = multipart('b', [sdpPart, isupPart(disposition)]);
      const read = readSessionBody(message('multipart/mixed;boundary=b', body));
      expect(read).toMatchObject({ kind: 'refused', status: 415 });
      expect(read.kind === 'refused' && read.why).toMatch(/application\/ISUP \(signal\) is required/);
    }
    // A part with no Content-Type is text/plain (RFC 2046 §5.1) and required.
    const untyped = multipart('b', [sdpPart, { headers: [], content: 'hello' }]);
    expect(readSessionBody(message('multipart/mixed;boundary=b', untyped))).toMatchObject({ status: 415 });
    // So is a whole body of another type, unless the message marks it optional.
    expect(readSessionBody(message('application/isup', ISUP))).toMatchObject({ status: 415 });
    expect(readSessionBody(message('application/isup', ISUP, 'signal;handling=optional'))).toEqual({
      kind: 'none'
    });
  });

  it('does not take SDP meant as something other than the session, or in an encoding it does not decode', () => {
    const early = {
      headers: ['Content-Type: application/sdp', 'Content-Disposition: early-session'],
      content: SDP
    };
    expect(readSessionBody(message('multipart/mixed;boundary=b', multipart('b', [early])))).toMatchObject({
      status: 415
    });
    const base64 = {
      headers: ['Content-Type: application/sdp', 'Content-Transfer-Encoding: base64'],
      content: Buffer.from(SDP).toString('base64')
    };
    expect(readSessionBody(message('multipart/mixed;boundary=b', multipart('b', [base64])))).toMatchObject({
      status: 415
    });
    const optionalEarly = {
      headers: ['Content-Type: application/sdp', 'Content-Disposition: early-session;handling=optional'],
      content: SDP
    };
    expect(readSessionBody(message('multipart/mixed;boundary=b', multipart('b', [optionalEarly])))).toEqual({
      kind: 'none'
    });
  });

  it('in multipart/alternative needs one alternative it understands, and prefers the last', () => {
    const other = { headers: ['Content-Type: application/x-future-session'], content: 'x' };
    const later = SDP.replace('4000', '5000');
    const body = multipart('b', [
      sdpPart,
      other,
      { headers: ['Content-Type: application/sdp'], content: later }
    ]);
    expect(sessionDescriptionOf(message('multipart/alternative;boundary=b', body))).toBe(later);
    const none = multipart('b', [other]);
    expect(readSessionBody(message('multipart/alternative;boundary=b', none))).toMatchObject({ status: 415 });
  });

  it('reads a multipart nested in a multipart, to a depth', () => {
    const inner = multipart('in', [sdpPart, isupPart('signal;handling=optional')]);
    const outer = multipart('out', [
      { headers: ['Content-Type: multipart/mixed; boundary=in'], content: inner },
      {
        headers: ['Content-Type: text/plain', 'Content-Disposition: render;handling=optional'],
        content: 'hi'
      }
    ]);
    expect(sessionDescriptionOf(message('multipart/mixed;boundary=out', outer))).toBe(SDP);

    let body: Buffer = Buffer.from(SDP);
    let type = 'application/sdp';
    for (let level = 0; level <= MAX_BODY_NESTING; level++) {
      body = multipart(`n${level}`, [{ headers: [`Content-Type: ${type}`], content: body }]);
      type = `multipart/mixed;boundary=n${level}`;
    }
    expect(readSessionBody(message(type, body))).toMatchObject({ kind: 'refused', status: 400 });
  });

  it('refuses with 400 a multipart that does not parse or has too many parts', () => {
    const ok = multipart('b', [sdpPart]);
    const cases: Array<[string, Buffer | string, RegExp]> = [
      ['multipart/mixed', ok, /without a boundary/],
      ['multipart/mixed;boundary=zz', ok, /no multipart delimiter/],
      ['multipart/mixed;boundary=b', ok.subarray(0, ok.indexOf('--b--')), /no multipart close delimiter/],
      ['multipart/mixed;boundary=b', `--bx\r\n\r\n${SDP}\r\n--b--`, /more after the boundary/],
      ['multipart/mixed;boundary=b', `--b\r\n folded\r\n\r\nx\r\n--b--`, /folded line/],
      ['multipart/mixed;boundary=b', `--b\r\nno colon here\r\n\r\nx\r\n--b--`, /without a colon/],
      ['multipart/mixed;boundary=b', `--b\r\nContent-Type: application/sdp\r\n--b--`, /headers do not end/],
      [
        'multipart/mixed;boundary=b',
        multipart(
          'b',
          Array.from({ length: MAX_BODY_PARTS + 1 }, () => sdpPart)
        ),
        /more than 16 body parts/
      ]
    ];
    for (const [type, body, why] of cases) {
      const read = readSessionBody(message(type, body));
      expect(read, `${type} ${why}`).toMatchObject({ kind: 'refused', status: 400 });
      expect(read.kind === 'refused' && read.why).toMatch(why);
    }
    const most = multipart(
      'b',
      Array.from({ length: MAX_BODY_PARTS }, () => sdpPart)
    );
    expect(sessionDescriptionOf(message('multipart/mixed;boundary=b', most))).toBe(SDP);
  });

  it('finds the first delimiter after a preamble of nothing but a line break', () => {
    for (const preamble of ['\n', '\r\n', 'x\r\n']) {
      const body = `${preamble}--b\r\nContent-Type: application/sdp\r\n\r\n${SDP}\r\n--b--`;
      expect(
        sessionDescriptionOf(message('multipart/mixed;boundary=b', body)),
        JSON.stringify(preamble)
      ).toBe(SDP);
    }
  });

  it('keeps a part whose content holds the boundary string away from a line start', () => {
    const tricky = { headers: ['Content-Type: application/sdp'], content: `${SDP}a=tool:x --b y\r\n` };
    expect(sessionDescriptionOf(message('multipart/mixed;boundary=b', multipart('b', [tricky])))).toBe(
      `${SDP}a=tool:x --b y\r\n`
    );
  });
});

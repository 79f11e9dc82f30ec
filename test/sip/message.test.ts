import { describe, expect, it } from 'vitest';
import { SipParseError } from '../../sip/errors.js';
import { parseNameAddr, formatNameAddr } from '../../sip/message/name-addr.js';
import { parseMessage } from '../../sip/message/parser.js';
import { createResponse } from '../../sip/message/responses.js';
import { parseSipUri, parseUri, formatSipUri, unescape } from '../../sip/message/uri.js';
import { parseVia, formatVia } from '../../sip/message/via.js';
import { parseDtmfInfo } from '../../sip/session/dtmf-info.js';
import { stampReceived, responseDestination, requestDestination } from '../../sip/transport/routing.js';
import { request } from '../support/sip-messages.js';

describe('SIP URIs (§19.1)', () => {
  it('splits user, password, host, port, parameters and headers', () => {
    const uri = parseSipUri('sip:alice:pw@Example.COM:5070;transport=tcp;lr?Subject=hi');
    expect(uri).toMatchObject({
      scheme: 'sip',
      user: 'alice',
      password: 'pw',
      host: 'example.com',
      port: 5070
    });
    expect(uri.params.get('transport')).toBe('tcp');
    expect(uri.params.get('lr')).toBeNull();
    expect(uri.headers.get('Subject')).toBe('hi');
    expect(formatSipUri(uri)).toBe('sip:alice:pw@example.com:5070;transport=tcp;lr?Subject=hi');
  });

  it('accepts IPv6 references and rejects unbracketed ones, bad ports and bad escapes', () => {
    expect(parseSipUri('sips:[2001:db8::10]:5061').host).toBe('[2001:db8::10]');
    expect(() => parseSipUri('sip:2001:db8::10')).toThrow(SipParseError);
    expect(() => parseSipUri('sip:a@host:99999')).toThrow(SipParseError);
    expect(() => parseSipUri('sip:a%2@host')).toThrow(SipParseError);
    expect(() => parseSipUri('sip:a b@host')).toThrow(SipParseError);
  });

  it('keeps other schemes opaque and unescapes for comparison', () => {
    expect(parseUri('tel:+15551234')).toEqual({ scheme: 'tel', opaque: '+15551234' });
    expect(unescape('sips%3Auser%40example.com')).toBe('sips:user@example.com');
  });
});

describe('name-addr and Via', () => {
  it('reads quoted and token display names, params, and addr-spec forms', () => {
    const quoted = parseNameAddr('"Bob \\"B\\"" <sip:bob@b.example>;tag=x1');
    expect(quoted).toMatchObject({ displayName: 'Bob "B"', uri: 'sip:bob@b.example' });
    expect(quoted.params.get('tag')).toBe('x1');
    expect(parseNameAddr('Alice Smith <sip:a@b>').displayName).toBe('Alice Smith');
    const bare = parseNameAddr('sip:c@d;tag=9');
    expect(bare.uri).toBe('sip:c@d');
    expect(bare.params.get('tag')).toBe('9');
    expect(formatNameAddr({ displayName: 'Room 1', uri: 'sip:r@h' })).toBe('"Room 1" <sip:r@h>');
  });

  it('parses Via with LWS around separators and rport without value', () => {
    const via = parseVia('SIP / 2.0 / UDP  10.0.0.1:5062 ; branch = z9hG4bKabc ; rport');
    expect(via).toMatchObject({ transport: 'UDP', host: '10.0.0.1', port: 5062 });
    expect(via.params.get('rport')).toBeNull();
    expect(formatVia(via)).toBe('SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKabc;rport');
  });
});

describe('routing (§18)', () => {
  it('stamps received and rport on the top Via and answers there (RFC 3581)', () => {
    const req = request('OPTIONS');
    stampReceived(req, { protocol: 'udp', host: '127.0.0.2', port: 40000 });
    const via = req.topVia;
    expect(via.params.get('received')).toBe('127.0.0.2');
    expect(via.params.get('rport')).toBe('40000');
    expect(responseDestination(via, { protocol: 'udp', host: '127.0.0.2', port: 40000 })).toEqual({
      protocol: 'udp',
      host: '127.0.0.2',
      port: 40000
    });
  });

  it('answers over a stream back on its connection, else on a new one to received and the sent-by port (§18.2.2)', () => {
    const tcp = { protocol: 'tcp', host: '192.0.2.7', port: 40000 } as const;
    expect(responseDestination(parseVia('SIP/2.0/TCP 192.0.2.7:5070;branch=z9hG4bK-1'), tcp)).toEqual({
      ...tcp,
      flow: true,
      reconnectTo: { host: '192.0.2.7', port: 5070 }
    });
    const tls = { protocol: 'tls', host: '192.0.2.7', port: 40001 } as const;
    const named = parseVia('SIP/2.0/TLS pbx.example;branch=z9hG4bK-2;received=192.0.2.7');
    expect(responseDestination(named, tls)).toEqual({
      ...tls,
      flow: true,
      reconnectTo: { host: '192.0.2.7', port: 5061 }
    });
    const ws = { protocol: 'ws', host: '192.0.2.7', port: 40002 } as const;
    expect(responseDestination(parseVia('SIP/2.0/WS abc.invalid;branch=z9hG4bK-3'), ws)).toEqual({
      ...ws,
      flow: true
    });
  });

  it('sends requests to the first Route, else the Request-URI, honouring transport=', () => {
    const req = request('BYE');
    expect(requestDestination(req, 'udp')).toEqual({ protocol: 'udp', host: '127.0.0.1', port: 5060 });
    req.add('Route', '<sip:proxy.example:5070;lr;transport=tcp>');
    // A name is looked up when sent (RFC 3263): with a port, for its address only.
    expect(requestDestination(req, 'udp')).toEqual({
      protocol: 'tcp',
      host: 'proxy.example',
      port: 5070,
      name: { host: 'proxy.example', port: 5070 }
    });
    req.set('Route', '<sip:proxy.example;lr>');
    expect(requestDestination(req, 'udp').name).toEqual({ host: 'proxy.example', port: undefined });
  });
});

describe('responses (§8.2.6)', () => {
  it('copies Via/From/Call-ID/CSeq, adds our To tag except on 100, and strips control characters from reasons', () => {
    const req = request('INVITE');
    const ringing = createResponse(req, 180, undefined, 'ourtag');
    expect(ringing.toTag).toBe('ourtag');
    expect(ringing.getAll('Via')).toEqual(req.getAll('Via'));
    expect(createResponse(req, 100, undefined, 'ourtag').toTag).toBeUndefined();
    expect(createResponse(req, 400, 'bad\r\nInjected: x').reason).toBe('bad  Injected: x');
  });

  it('adds our To tag when ;tag= is only inside the To URI or display name, never a second one (§8.2.6.2)', () => {
    const inUri = request('INVITE').set('To', '<sip:alice@127.0.0.1;tag=uriparam>');
    const ringing = createResponse(inUri, 180, undefined, 'ourtag');
    expect(ringing.toTag).toBe('ourtag');
    expect(ringing.get('To')).toBe('<sip:alice@127.0.0.1;tag=uriparam>;tag=ourtag');
    const inName = request('INVITE').set('To', '"x;tag=name" <sip:alice@127.0.0.1>');
    expect(createResponse(inName, 200, undefined, 'ourtag').toTag).toBe('ourtag');
    const tagged = request('BYE', { toTag: 'theirs' });
    expect(createResponse(tagged, 200, undefined, 'ourtag').get('To')).toBe(tagged.get('To'));
  });
});

describe('messages', () => {
  it('round-trips a request through serialize and parse', () => {
    const req = request('INFO', {
      body: 'Signal=1\r\nDuration=100\r\n',
      extra: ['Content-Type: application/dtmf-relay']
    });
    const again = parseMessage(req.toBuffer(), { datagram: false });
    expect(again.kind).toBe('request');
    if (again.kind !== 'request') return;
    expect(again.error).toBeUndefined();
    expect(again.message.bodyText).toBe('Signal=1\r\nDuration=100\r\n');
    expect(again.message.contentType).toBe('application/dtmf-relay');
  });

  it('answers 505 for another SIP version and 400 for a CSeq over 2^31', () => {
    const v = parseMessage(Buffer.from(request('OPTIONS').toString().replace('SIP/2.0\r\n', 'SIP/3.0\r\n')));
    expect(v.kind === 'request' && v.error?.status).toBe(505);
    const c = parseMessage(
      Buffer.from(request('OPTIONS').toString().replace('CSeq: 1 OPTIONS', 'CSeq: 2147483648 OPTIONS'))
    );
    expect(c.kind === 'request' && c.error?.status).toBe(400);
  });

  it("takes headers named after Object's own properties as unknown headers", () => {
    // They found Object.prototype's members in the compact-form table: the message was
    // reported invalid (a TypeError inside), and the UA dropped it unanswered.
    const names = ['Constructor', '__proto__', 'toString', 'hasOwnProperty'];
    const req = request('OPTIONS', { extra: names.map((name) => `${name}: x`) });
    const parsed = parseMessage(req.toBuffer(), { datagram: false });
    expect(parsed.kind).toBe('request');
    if (parsed.kind !== 'request') return;
    expect(parsed.error).toBeUndefined();
    for (const name of names) expect(parsed.message.get(name)).toBe('x');
  });
});

describe('INFO DTMF bodies', () => {
  it('parses dtmf-relay and dtmf bodies into digit and duration', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=#\r\nDuration=250\r\n')).toEqual({
      digit: '#',
      durationMs: 250
    });
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=10\r\nDuration=80')).toEqual({
      digit: '*',
      durationMs: 80
    });
    expect(parseDtmfInfo('application/dtmf', '7')).toEqual({ digit: '7', durationMs: 250 });
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=X\r\n')).toBeUndefined();
    expect(parseDtmfInfo('text/plain', '5')).toBeUndefined();
  });
});

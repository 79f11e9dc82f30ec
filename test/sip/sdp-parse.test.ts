import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SdpParseError,
  mediaConnection,
  mediaDirection,
  parseSdp,
  rtpFormats,
  serializeSdp
} from '../../sip/sdp/index.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/sdp/${name}`, import.meta.url), 'utf8');

/** mulberry32: small seeded PRNG so the fuzz cases are the same on every run. */
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

describe('parseSdp on real session descriptions', () => {
  it('reads the RFC 4475 sdp01 body: session c=, two m-lines, static payload types', () => {
    const desc = parseSdp(fixture('rfc4475-sdp01.sdp'));
    expect(desc.origin).toEqual({
      username: 'mhandley',
      sessionId: '29739',
      sessionVersion: '7272939',
      netType: 'IN',
      addressType: 'IP4',
      address: '192.0.2.5'
    });
    expect(desc.media.map((m) => [m.media, m.port, m.protocol, m.formats])).toEqual([
      ['audio', 49217, 'RTP/AVP', ['0', '12']],
      ['video', 3227, 'RTP/AVP', ['31']]
    ]);
    expect(mediaConnection(desc, desc.media[0])?.address).toBe('192.0.2.5');
    // No rtpmap for 0 and 12: RFC 3551 static assignments apply.
    expect(
      rtpFormats(desc.media[0]).map((f) => `${f.payloadType} ${f.encodingName}/${f.clockRateHz}`)
    ).toEqual(['0 PCMU/8000', '12 QCELP/8000']);
    // "a=rtpmap:31 LPC" lacks a clock rate: ignored, the static H261 meaning stays.
    expect(rtpFormats(desc.media[1])[0]).toMatchObject({
      payloadType: 31,
      encodingName: 'H261',
      clockRateHz: 90000
    });
  });

  it('reads IPv6 connection and origin addresses and a session id beyond 2^53 (RFC 5118 §4.6)', () => {
    const desc = parseSdp(fixture('rfc5118-ipv6-in-sdp.sdp'));
    expect(desc.origin.sessionId).toBe('971731711378798081');
    expect(desc.connection).toEqual({ netType: 'IN', addressType: 'IP6', address: '2001:db8::20' });
    expect(desc.timings).toEqual([{ startTime: '3338481189', stopTime: '3370017201', repeats: [] }]);
    expect(rtpFormats(desc.media[0])[0]).toMatchObject({
      payloadType: 2,
      encodingName: 'G726-32',
      clockRateHz: 8000
    });
  });

  it('takes media-level c= per stream and accepts an empty s= (RFC 5118 §4.8)', () => {
    const desc = parseSdp(fixture('rfc5118-mult-ip-in-sdp.sdp'));
    expect(desc.sessionName).toBe('');
    expect(desc.connection).toBeUndefined();
    expect(mediaConnection(desc, desc.media[0])).toMatchObject({ addressType: 'IP4', address: '192.0.2.1' });
    expect(mediaConnection(desc, desc.media[1])).toMatchObject({
      addressType: 'IP6',
      address: '2001:db8::1'
    });
  });

  it('reads the telephone-event rtpmap and fmtp of the SIPp uac_pcap offer', () => {
    const desc = parseSdp(fixture('sipp-uac-pcap.sdp'));
    expect(rtpFormats(desc.media[0])).toEqual([
      { payloadType: 8, encodingName: 'PCMA', clockRateHz: 8000, channels: 1 },
      {
        payloadType: 101,
        encodingName: 'telephone-event',
        clockRateHz: 8000,
        channels: 1,
        parameters: '0-11,16'
      }
    ]);
  });

  it('round-trips every fixture through serializeSdp with CRLF line ends', () => {
    for (const name of [
      'baresip-1.0-offer.sdp',
      'rfc4475-sdp01.sdp',
      'rfc5118-ipv6-in-sdp.sdp',
      'rfc5118-mult-ip-in-sdp.sdp',
      'sipp-uac.sdp',
      'sipp-uac-pcap.sdp'
    ]) {
      const text = fixture(name);
      const serialized = serializeSdp(parseSdp(text));
      expect(serialized, name).toBe(text);
      expect(serialized.split('\r\n').every((line) => !line.includes('\n'))).toBe(true);
    }
  });

  it('accepts bare LF line ends, trailing blanks and a missing t=', () => {
    const desc = parseSdp(
      'v=0\no=- 1 2 IN IP4 10.0.0.1  \ns=x\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n\n\n'
    );
    expect(desc.media[0].port).toBe(4000);
    expect(desc.timings).toEqual([{ startTime: '0', stopTime: '0', repeats: [] }]);
    expect(desc.origin.address).toBe('10.0.0.1');
  });

  it('lets media-level direction override session-level, defaulting to sendrecv', () => {
    const desc = parseSdp(
      'v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=sendonly\r\n' +
        'm=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\na=inactive\r\n'
    );
    expect(mediaDirection(desc, desc.media[0])).toBe('sendonly');
    expect(mediaDirection(desc, desc.media[1])).toBe('inactive');
    const plain = parseSdp(fixture('sipp-uac.sdp'));
    expect(mediaDirection(plain, plain.media[0])).toBe('sendrecv');
  });

  it('parses multicast c= with TTL and count, and port counts', () => {
    const desc = parseSdp(
      'v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 224.2.1.1/127/3\r\nt=0 0\r\nm=audio 49170/2 RTP/AVP 0\r\nc=IN IP6 ff15::101/3\r\n'
    );
    expect(desc.connection).toEqual({
      netType: 'IN',
      addressType: 'IP4',
      address: '224.2.1.1',
      ttl: 127,
      addressCount: 3
    });
    expect(desc.media[0].connections[0]).toEqual({
      netType: 'IN',
      addressType: 'IP6',
      address: 'ff15::101',
      addressCount: 3
    });
    expect(desc.media[0].portCount).toBe(2);
    expect(serializeSdp(desc)).toContain('c=IN IP4 224.2.1.1/127/3\r\n');
  });
});

describe('parseSdp rejects malformed descriptions with SdpParseError', () => {
  const base =
    'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  const cases: Array<[string, string, number | undefined]> = [
    ['empty text', '', undefined],
    ['no v= first', base.replace('v=0\r\n', ''), 1],
    ['version 1', base.replace('v=0', 'v=1'), 1],
    ['missing o=', base.replace('o=- 1 1 IN IP4 10.0.0.1\r\n', ''), undefined],
    ['short o=', base.replace('o=- 1 1 IN IP4 10.0.0.1', 'o=- 1 IN IP4 10.0.0.1'), 2],
    ['non-numeric o= version', base.replace('o=- 1 1', 'o=- 1 x'), 2],
    ['missing s=', base.replace('s=-\r\n', ''), undefined],
    ['line without =', base + 'garbage\r\n', 7],
    ['space before =', base + 'a =sendrecv\r\n', 7],
    ['unknown type letter', base + 'x=1\r\n', 7],
    ['port above 65535', base.replace('4000', '70000'), 6],
    ['non-numeric port', base.replace('4000', 'abc'), 6],
    ['m= without formats', base.replace('RTP/AVP 0', 'RTP/AVP'), 6],
    ['c= with two fields', base.replace('c=IN IP4 10.0.0.1', 'c=IN 10.0.0.1'), 4],
    ['c= with bad TTL', base.replace('c=IN IP4 10.0.0.1', 'c=IN IP4 224.0.0.1/x'), 4],
    ['b= without value', base + 'b=AS\r\n', 7],
    ['t= with letters', base.replace('t=0 0', 't=now later'), 5],
    ['session line after m=', base + 's=again\r\n', 7],
    ['duplicate o=', base.replace('s=-', 'o=- 2 2 IN IP4 1.1.1.1\r\ns=-'), 3],
    ['bad attribute name', base + 'a=:x\r\n', 7]
  ];
  it.each(cases)('%s', (_name, text, line) => {
    let error: unknown;
    try {
      parseSdp(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SdpParseError);
    expect((error as SdpParseError).code).toBe('ERR_SDP_PARSE');
    expect((error as SdpParseError).status).toBe(400);
    expect((error as SdpParseError).line).toBe(line);
  });

  it('never throws anything but SdpParseError on 2000 seeded mutations of real SDP', () => {
    const random = prng(0x5d9);
    const sources = [
      'rfc4475-sdp01.sdp',
      'rfc5118-ipv6-in-sdp.sdp',
      'rfc5118-mult-ip-in-sdp.sdp',
      'sipp-uac-pcap.sdp'
    ].map(fixture);
    const alphabet = 'v=o0 1/:\r\nacmtIP46-.\x00\u00e9';
    let parsed = 0;
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const chars = [...sources[i % sources.length]];
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * chars.length);
        const op = random();
        if (op < 0.4) chars[at] = alphabet[Math.floor(random() * alphabet.length)];
        else if (op < 0.7) chars.splice(at, 1 + Math.floor(random() * 8));
        else chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]);
      }
      try {
        const desc = parseSdp(chars.join(''));
        serializeSdp(desc);
        for (const media of desc.media) rtpFormats(media);
        parsed++;
      } catch (error) {
        expect(error).toBeInstanceOf(SdpParseError);
        rejected++;
      }
    }
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(parsed).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});

/**
 * Seed inputs of the fuzzer, per parser target: the RFC 4475 / RFC 5118 torture messages and the
 * SDP fixtures from test/fixtures, valid INVITE / BYE / OPTIONS requests, the URIs, name-addrs,
 * Vias and authorization values found in all of those, digest challenges and answers, and RTP,
 * RTCP and RFC 4733 packets as this engine and its peers send them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { computeAuthorization, createChallenge, parseChallenge } from '../../sip/auth/digest.js';
import { parseMessage } from '../../sip/message/parser.js';
import { serializeRtcpCompound } from '../../engine/rtp/rtcp-packet.js';
import { writeRtpHeaderOf } from '../../engine/rtp/rtp-packet.js';
import { planTelephoneEvent, writeTelephoneEvent } from '../../engine/rtp/telephone-event.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

function files(dir: string, ext: string): Buffer[] {
  const path = join(FIXTURES, dir);
  return readdirSync(path)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => readFileSync(join(path, f)));
}

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n';

function request(method: string, extra: string[] = [], body = ''): Buffer {
  const lines = [
    `${method} sip:room42@127.0.0.1:5060;transport=udp SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-524287-1;rport',
    'Max-Forwards: 70',
    'From: "George" <sip:george@127.0.0.1:5070>;tag=as2f3',
    `To: <sip:room42@127.0.0.1>${method === 'INVITE' || method === 'OPTIONS' ? '' : ';tag=98asd'}`,
    'Call-ID: 1-4711@127.0.0.1',
    `CSeq: 1 ${method}`,
    'Contact: <sip:george@127.0.0.1:5070>',
    'User-Agent: fuzz',
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body
  ];
  return Buffer.from(lines.join('\r\n'));
}

function rtp(payloadType: number, payload: Buffer, flags = 0): Buffer {
  const packet = Buffer.alloc(12 + payload.length);
  writeRtpHeaderOf(packet, false, payloadType, 4711, 160_000, 0x1234abcd);
  packet[0] |= flags;
  payload.copy(packet, 12);
  return packet;
}

/** SDP beside an ISUP part, as a SIP-I trunk sends it (RFC 3204); nested in multipart/alternative when `nested`. */
function sipIBody(nested: boolean): { contentType: string; body: string } {
  const mixed = [
    '--unique-boundary-1',
    'Content-Type: application/sdp',
    'Content-Disposition: session;handling=required',
    '',
    SDP,
    '--unique-boundary-1',
    'Content-Type: application/ISUP;version=itu-t92+',
    'Content-Disposition: signal;handling=optional',
    'Content-Transfer-Encoding: binary',
    '',
    '\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x32\x54\x76',
    '--unique-boundary-1--',
    ''
  ].join('\r\n');
  if (!nested) return { contentType: 'multipart/mixed; boundary=unique-boundary-1', body: mixed };
  const alternative = [
    'preamble',
    '--outer boundary',
    'Content-Type: multipart/mixed; boundary=unique-boundary-1',
    '',
    mixed,
    '--outer boundary',
    'Content-Type: application/sdp',
    '',
    SDP,
    '--outer boundary--',
    'epilogue'
  ].join('\r\n');
  return { contentType: 'multipart/alternative;boundary="outer boundary"', body: alternative };
}

export interface Corpus {
  [target: string]: Buffer[];
}

export function buildCorpus(): Corpus {
  const torture = [...files('rfc4475', '.dat'), ...files('rfc5118', '.dat')];
  const messages = [
    ...torture,
    request(
      'INVITE',
      ['Content-Type: application/sdp', 'Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO'],
      SDP
    ),
    request('BYE'),
    request('OPTIONS', ['Accept: application/sdp']),
    request('INFO', ['Content-Type: application/dtmf-relay'], 'Signal=5\r\nDuration=160\r\n'),
    request('INVITE', [`Content-Type: ${sipIBody(false).contentType}`], sipIBody(false).body)
  ];

  // Header values as they appear in the messages above, for the value parsers.
  const uris = new Set<string>([
    'sip:room42@127.0.0.1:5060;transport=tcp',
    'sips:[2001:db8::10]:5061;maddr=[::1]?subject=x',
    'tel:+1-555-0100'
  ]);
  const nameAddrs = new Set<string>();
  const vias = new Set<string>();
  const auth = new Set<string>();
  // The 'message body' target reads its input's first line as the Content-Type and the rest as the body.
  const bodies = [sipIBody(false), sipIBody(true)].map((b) => Buffer.from(`${b.contentType}\n${b.body}`));
  for (const data of messages) {
    const parsed = parseMessage(data, { datagram: true });
    if (parsed.kind === 'invalid') continue;
    const message = parsed.message;
    if (message.body.length > 0)
      bodies.push(Buffer.concat([Buffer.from(`${message.get('Content-Type') ?? ''}\n`), message.body]));
    if (parsed.kind === 'request' && parsed.message.uri) uris.add(parsed.message.uri);
    for (const h of message.headers) {
      if (['From', 'To', 'Contact', 'Route', 'Record-Route'].includes(h.name)) nameAddrs.add(h.value);
      if (h.name === 'Via') vias.add(h.value);
      if (/authori[sz]ation|authenticate/i.test(h.name)) auth.add(h.value);
    }
  }
  const challenge = createChallenge({
    realm: 'uasmedia',
    nonce: 'bm9uY2U=',
    opaque: 'op',
    qop: ['auth', 'auth-int'],
    algorithm: 'SHA-256'
  });
  auth.add(challenge);
  auth.add(
    computeAuthorization(
      parseChallenge(challenge),
      { username: 'george', password: 'pw' },
      { method: 'INVITE', uri: 'sip:room42@127.0.0.1' },
      1,
      'c0ffee'
    )
  );
  auth.add(
    'Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5'
  );

  const sr = serializeRtcpCompound([
    {
      type: 'sr',
      ssrc: 1,
      ntpSeconds: 3_900_000_000,
      ntpFraction: 1 << 31,
      rtpTimestamp: 160,
      packetCount: 50,
      octetCount: 8000,
      reports: [
        {
          ssrc: 2,
          fractionLost: 3,
          cumulativeLost: -2,
          highestSequence: 70000,
          jitter: 12,
          lastSenderReport: 5,
          delaySinceLastSenderReport: 6
        }
      ]
    },
    { type: 'sdes', chunks: [{ ssrc: 1, cname: 'george@127.0.0.1' }] },
    { type: 'bye', ssrcs: [1], reason: 'hung up' }
  ]);
  const rr = serializeRtcpCompound([
    { type: 'rr', ssrc: 3, reports: [] },
    { type: 'sdes', chunks: [{ ssrc: 3 }] }
  ]);

  const events = planTelephoneEvent('5', 120, 8000, 20).map((p) => {
    const payload = Buffer.alloc(4);
    writeTelephoneEvent(payload, 0, p.payload);
    return rtp(101, payload);
  });
  const csrcAndExtension = Buffer.concat([
    Buffer.alloc(8, 7),
    Buffer.from([0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]),
    Buffer.alloc(160, 0xff)
  ]);
  const paddedRtp = rtp(0, Buffer.concat([Buffer.alloc(160, 0x7f), Buffer.from([0, 0, 3])]), 0x20);

  return {
    'sip message (datagram)': messages,
    'sip stream framer': messages,
    'sip uri': [...uris].map((u) => Buffer.from(u)),
    'name-addr': [...nameAddrs].map((v) => Buffer.from(v)),
    via: [...vias].map((v) => Buffer.from(v)),
    'auth params': [...auth].map((v) => Buffer.from(v)),
    sdp: [...files('sdp', '.sdp'), Buffer.from(SDP)],
    'message body': bodies,
    rtp: [
      rtp(0, Buffer.alloc(160, 0xff)),
      rtp(8, Buffer.alloc(160, 0xd5)),
      paddedRtp,
      rtp(0, csrcAndExtension, 0x12)
    ],
    rtcp: [sr, rr],
    rfc4733: events
  };
}

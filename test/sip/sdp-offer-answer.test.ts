import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SdpNegotiationError,
  SdpParseError,
  SdpSession,
  createAnswer,
  createOffer,
  mediaDirection,
  parseSdp,
  processAnswer,
  rtpFormats,
  type LocalMediaCapabilities
} from '../../sip/sdp/index.js';
import { generateSdesKeys } from '../../sip/sdp/sdes.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/sdp/${name}`, import.meta.url), 'utf8');

const local: LocalMediaCapabilities = {
  address: '127.0.0.1',
  port: 20000,
  codecs: ['PCMU', 'PCMA'],
  telephoneEvent: true,
  sessionId: '1234'
};

/** Builds a one-stream offer in the shape peers send. */
function offer(media: string, session = 'c=IN IP4 192.0.2.10\r\n'): string {
  return `v=0\r\no=peer 99 7 IN IP4 192.0.2.10\r\ns=-\r\n${session}t=0 0\r\n${media}`;
}

function negotiationError(run: () => unknown): SdpNegotiationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SdpNegotiationError);
    return error as SdpNegotiationError;
  }
  throw new Error('expected SdpNegotiationError');
}

describe('createOffer', () => {
  it('offers our codecs in preference order with static PTs, telephone-event 0-16, ptime and direction', () => {
    const text = createOffer({ ...local, codecs: ['PCMA', 'PCMU', 'L16'] });
    expect(text.endsWith('\r\n')).toBe(true);
    const desc = parseSdp(text);
    expect(desc.origin).toMatchObject({
      username: '-',
      sessionId: '1234',
      sessionVersion: '0',
      addressType: 'IP4',
      address: '127.0.0.1'
    });
    expect(desc.connection).toEqual({ netType: 'IN', addressType: 'IP4', address: '127.0.0.1' });
    const [audio] = desc.media;
    expect(audio).toMatchObject({
      media: 'audio',
      port: 20000,
      protocol: 'RTP/AVP',
      formats: ['8', '0', '96', '101']
    });
    expect(
      rtpFormats(audio).map(
        (f) => `${f.payloadType} ${f.encodingName}/${f.clockRateHz} ${f.parameters ?? ''}`
      )
    ).toEqual(['8 PCMA/8000 ', '0 PCMU/8000 ', '96 L16/16000 ', '101 telephone-event/8000 0-16']);
    expect(text).toContain('a=ptime:20\r\n');
    expect(mediaDirection(desc, audio)).toBe('sendrecv');
  });

  it('uses c=IN IP6 for an IPv6 address and omits telephone-event when disabled', () => {
    const desc = parseSdp(
      createOffer({ ...local, address: '2001:db8::5', telephoneEvent: false, ptimeMs: 30 })
    );
    expect(desc.connection?.addressType).toBe('IP6');
    expect(desc.origin.addressType).toBe('IP6');
    expect(desc.media[0].formats).toEqual(['0', '8']);
    expect(desc.media[0].attributes).toContainEqual({ name: 'ptime', value: '30' });
  });

  it('rejects bad local capabilities before producing SDP', () => {
    expect(() => createOffer({ ...local, port: 0 })).toThrow(RangeError);
    expect(() => createOffer({ ...local, codecs: [] })).toThrow(TypeError);
    expect(() => createOffer({ ...local, codecs: ['G729' as never] })).toThrow(/unknown codec "G729"/);
  });
});

describe('createAnswer', () => {
  it('answers the SIPp uac offer with PCMU and reports where to send', () => {
    const { answer, audio } = createAnswer(fixture('sipp-uac.sdp'), local);
    expect(audio).toEqual({
      codec: 'PCMU',
      payloadType: 0,
      clockRateHz: 8000,
      channels: 1,
      ptimeMs: 20,
      remoteAddress: '127.0.0.1',
      remotePort: 6000,
      remoteRtcpPort: 6001,
      remoteRtcpAddress: '127.0.0.1',
      direction: 'sendrecv',
      onHold: false
    });
    const desc = parseSdp(answer);
    expect(desc.media[0]).toMatchObject({ port: 20000, formats: ['0'] });
    expect(mediaDirection(desc, desc.media[0])).toBe('sendrecv');
  });

  it('picks PCMA from the uac_pcap offer and narrows telephone-event to the common events', () => {
    const { answer, audio } = createAnswer(fixture('sipp-uac-pcap.sdp'), local);
    expect(audio).toMatchObject({
      codec: 'PCMA',
      payloadType: 8,
      telephoneEventPayloadType: 101,
      telephoneEventClockRateHz: 8000
    });
    expect(answer).toContain('m=audio 20000 RTP/AVP 8 101\r\n');
    expect(answer).toContain('a=fmtp:101 0-11,16\r\n');
  });

  it('answers the baresip 1.0 offer with mono L16/16000 at its dynamic PT, skipping the stereo one', () => {
    const text = fixture('baresip-1.0-offer.sdp');
    const { answer, audio } = createAnswer(text, { ...local, codecs: ['L16', 'PCMU'] });
    expect(audio).toMatchObject({
      codec: 'L16',
      payloadType: 102,
      clockRateHz: 16000,
      telephoneEventPayloadType: 104,
      telephoneEventClockRateHz: 8000,
      remoteAddress: '192.0.2.2',
      remotePort: 34226,
      ptimeMs: 20
    });
    expect(answer).toContain(
      'm=audio 20000 RTP/AVP 102 104\r\na=rtpmap:102 L16/16000\r\na=rtpmap:104 telephone-event/8000\r\na=fmtp:104 0-15\r\n'
    );
    expect(createAnswer(text, { ...local, codecs: ['PCMA', 'PCMU'] }).audio).toMatchObject({
      codec: 'PCMA',
      payloadType: 8
    });
    // Round trip: baresip would read our answer as selecting L16/16000.
    expect(processAnswer(text, answer)).toMatchObject({ codec: 'L16', payloadType: 102, remotePort: 20000 });
  });

  it("chooses by our preference order, keeping the offer's dynamic payload type numbers", () => {
    const text = offer(
      'm=audio 5000 RTP/AVP 0 8 97 110\r\na=rtpmap:97 l16/16000\r\na=rtpmap:110 telephone-event/8000\r\na=fmtp:110 0-15\r\n'
    );
    const wideband = createAnswer(text, { ...local, codecs: ['L16', 'PCMU'] });
    expect(wideband.audio).toMatchObject({
      codec: 'L16',
      payloadType: 97,
      clockRateHz: 16000,
      telephoneEventPayloadType: 110
    });
    expect(wideband.answer).toContain('m=audio 20000 RTP/AVP 97 110\r\na=rtpmap:97 L16/16000\r\n');
    expect(wideband.answer).toContain('a=fmtp:110 0-15\r\n');
    expect(createAnswer(text, { ...local, codecs: ['PCMA', 'PCMU'] }).audio.codec).toBe('PCMA');
  });

  it('answers G.722 at payload type 9 and its 8000 Hz RTP clock (RFC 3551 §4.5.2), rtpmap or not', () => {
    // As a desk phone offers it: wideband first, G.711 to fall back on.
    const phone = offer(
      'm=audio 5000 RTP/AVP 9 0 8 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n'
    );
    const hd = createAnswer(phone, { ...local, codecs: ['G722', 'L16', 'PCMU', 'PCMA'] });
    expect(hd.audio).toMatchObject({
      codec: 'G722',
      payloadType: 9,
      clockRateHz: 8000,
      telephoneEventPayloadType: 101,
      telephoneEventClockRateHz: 8000
    });
    expect(hd.answer).toContain('m=audio 20000 RTP/AVP 9 101\r\na=rtpmap:9 G722/8000\r\n');
    expect(processAnswer(phone, hd.answer)).toMatchObject({ codec: 'G722', payloadType: 9 });
    // Our default for 8 kHz rooms does not take it; a static 9 with no rtpmap is G.722 too.
    expect(createAnswer(phone, local).audio.codec).toBe('PCMU');
    const bare = offer('m=audio 5000 RTP/AVP 9 0\r\n');
    expect(createAnswer(bare, { ...local, codecs: ['G722', 'PCMU'] }).audio).toMatchObject({
      codec: 'G722',
      payloadType: 9
    });
    // G722/16000 names the audio's rate, not RTP's clock: not the codec RFC 3551 registers.
    const misnamed = offer('m=audio 5000 RTP/AVP 9 0\r\na=rtpmap:9 G722/16000\r\n');
    expect(createAnswer(misnamed, { ...local, codecs: ['G722', 'PCMU'] }).audio.codec).toBe('PCMU');
    const offered = parseSdp(createOffer({ ...local, codecs: ['G722', 'PCMU'] })).media[0];
    expect(offered.formats.slice(0, 2)).toEqual(['9', '0']);
    expect(rtpFormats(offered)[0]).toMatchObject({ payloadType: 9, encodingName: 'G722', clockRateHz: 8000 });
  });

  it('prefers telephone-event at the codec clock rate, falling back to 8000', () => {
    const text = offer(
      'm=audio 5000 RTP/AVP 96 101 102\r\na=rtpmap:96 L16/16000\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:102 telephone-event/16000\r\n'
    );
    expect(createAnswer(text, { ...local, codecs: ['L16'] }).audio).toMatchObject({
      telephoneEventPayloadType: 102,
      telephoneEventClockRateHz: 16000
    });
    const narrow = offer('m=audio 5000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n');
    // No fmtp: RFC 4733 §2.4.1 default 0-15.
    expect(createAnswer(narrow, local).answer).toContain('a=fmtp:101 0-15\r\n');
    expect(
      createAnswer(narrow, { ...local, telephoneEvent: false }).audio.telephoneEventPayloadType
    ).toBeUndefined();
  });

  it('accepts comfort noise (RFC 3389) at the codec clock rate, so its packets are taken as silence', () => {
    // Static PT 13 needs no rtpmap (RFC 3551); a CN at another clock than the codec's is not for it.
    const text = offer('m=audio 5000 RTP/AVP 0 13 101\r\na=rtpmap:101 telephone-event/8000\r\n');
    const { answer, audio } = createAnswer(text, local);
    expect(audio.comfortNoisePayloadType).toBe(13);
    expect(parseSdp(answer).media[0].formats).toEqual(['0', '101', '13']);
    expect(answer).toContain('a=rtpmap:13 CN/8000\r\n');
    const wide = offer('m=audio 5000 RTP/AVP 96 13\r\na=rtpmap:96 L16/16000\r\n');
    expect(createAnswer(wide, { ...local, codecs: ['L16'] }).audio.comfortNoisePayloadType).toBeUndefined();
    const none = offer('m=audio 5000 RTP/AVP 0\r\n');
    expect(createAnswer(none, local).audio.comfortNoisePayloadType).toBeUndefined();
  });

  it('rejects the video stream of sdp01 with port 0, keeping its format list', () => {
    const { answer } = createAnswer(fixture('rfc4475-sdp01.sdp'), local);
    const desc = parseSdp(answer);
    expect(desc.media.map((m) => `${m.media} ${m.port} ${m.protocol} ${m.formats.join(' ')}`)).toEqual([
      'audio 20000 RTP/AVP 0',
      'video 0 RTP/AVP 31'
    ]);
  });

  it("answers in the offer's m-line positions when audio is not first, using media-level c= (RFC 5118 §4.8)", () => {
    const text = offer(
      'm=video 6024 RTP/AVP 107\r\na=rtpmap:107 H263-1998/90000\r\nm=audio 22334 RTP/AVP 0\r\nc=IN IP6 2001:db8::1\r\n',
      ''
    );
    const { answer, audio } = createAnswer(text, { ...local, address: '2001:db8::2' });
    expect(audio).toMatchObject({ remoteAddress: '2001:db8::1', remotePort: 22334 });
    expect(parseSdp(answer).media.map((m) => [m.media, m.port])).toEqual([
      ['video', 0],
      ['audio', 20000]
    ]);
    expect(answer).toContain('c=IN IP6 2001:db8::2\r\n');
    expect(createAnswer(fixture('rfc5118-mult-ip-in-sdp.sdp'), local).audio.remoteAddress).toBe('192.0.2.1');
  });

  it('accepts only the first usable audio stream and rejects a second one and an SRTP one', () => {
    const text = offer('m=audio 4000 RTP/SAVP 0\r\nm=audio 5000 RTP/AVP 0\r\nm=audio 6000 RTP/AVP 0\r\n');
    const { answer, audio } = createAnswer(text, local);
    expect(audio.remotePort).toBe(5000);
    expect(parseSdp(answer).media.map((m) => m.port)).toEqual([0, 20000, 0]);
  });

  it('throws SdpNegotiationError with status 488 when no codec is common', () => {
    const error = negotiationError(() => createAnswer(fixture('rfc5118-ipv6-in-sdp.sdp'), local));
    expect(error.status).toBe(488);
    expect(error.code).toBe('ERR_SDP_NEGOTIATION');
    expect(error.message).toMatch(/no common audio codec/);
    // telephone-event alone is not audio we can carry.
    negotiationError(() =>
      createAnswer(offer('m=audio 5000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n'), local)
    );
  });

  it('throws 488 when the offer has no audio, or only a rejected audio stream', () => {
    expect(negotiationError(() => createAnswer(offer('m=video 5000 RTP/AVP 31\r\n'), local)).message).toMatch(
      /no active RTP\/AVP audio/
    );
    negotiationError(() => createAnswer(offer('m=audio 0 RTP/AVP 0\r\n'), local));
  });

  it('throws SdpParseError for malformed offers and an audio stream without any c=', () => {
    expect(() => createAnswer('v=0\r\nnonsense', local)).toThrow(SdpParseError);
    expect(() => createAnswer(offer('m=audio 5000 RTP/AVP 0\r\n', ''), local)).toThrow(/no "c="/);
  });

  it("honours the peer's ptime capped by its maxptime, and a=rtcp (RFC 3605)", () => {
    const text = offer('m=audio 5000 RTP/AVP 0\r\na=ptime:30\r\na=rtcp:5011 IN IP4 192.0.2.99\r\n');
    expect(createAnswer(text, local).audio).toMatchObject({
      ptimeMs: 30,
      remoteRtcpPort: 5011,
      remoteRtcpAddress: '192.0.2.99'
    });
    const capped = offer('m=audio 5000 RTP/AVP 0\r\na=maxptime:10\r\na=rtcp:5003\r\n');
    expect(createAnswer(capped, local).audio).toMatchObject({
      ptimeMs: 10,
      remoteRtcpPort: 5003,
      remoteRtcpAddress: '192.0.2.10'
    });
  });

  it('takes RTCP on the RTP port + 1, also for an odd port, but names none past 65535 without a=rtcp', () => {
    const rtcpOf = (media: string) => createAnswer(offer(media), local).audio.remoteRtcpPort;
    expect(rtcpOf('m=audio 5000 RTP/AVP 0\r\n')).toBe(5001);
    // RFC 8866 §5.14 wants a=rtcp here; Asterisk and FreeSWITCH send to port + 1 all the same.
    expect(rtcpOf('m=audio 5001 RTP/AVP 0\r\n')).toBe(5002);
    expect(rtcpOf('m=audio 65534 RTP/AVP 0\r\n')).toBe(65535);
    expect(rtcpOf('m=audio 65535 RTP/AVP 0\r\n')).toBeUndefined();
    expect(rtcpOf('m=audio 65535 RTP/AVP 0\r\na=rtcp:65534\r\n')).toBe(65534);
  });

  describe('direction and hold (RFC 3264 §6.1, §8.4)', () => {
    const cases: Array<[string, string, string, boolean]> = [
      // [offer attribute, our wish, answer direction (= our direction), onHold]
      ['a=sendrecv', 'sendrecv', 'sendrecv', false],
      ['a=sendonly', 'sendrecv', 'recvonly', true],
      ['a=recvonly', 'sendrecv', 'sendonly', false],
      ['a=inactive', 'sendrecv', 'inactive', true],
      ['a=sendrecv', 'sendonly', 'sendonly', false],
      ['a=sendrecv', 'inactive', 'inactive', false],
      ['a=sendonly', 'recvonly', 'recvonly', true]
    ];
    it.each(cases)('offer %s with us %s → answer %s', (attribute, ours, expected, onHold) => {
      const text = offer(`m=audio 5000 RTP/AVP 0\r\n${attribute}\r\n`);
      const { answer, audio } = createAnswer(text, {
        ...local,
        direction: ours as LocalMediaCapabilities['direction']
      });
      expect(audio.direction).toBe(expected);
      expect(audio.onHold).toBe(onHold);
      const desc = parseSdp(answer);
      expect(mediaDirection(desc, desc.media[0])).toBe(expected);
    });

    it('treats legacy c=0.0.0.0 as hold: we only receive', () => {
      const { audio, answer } = createAnswer(
        offer('m=audio 5000 RTP/AVP 0\r\n', 'c=IN IP4 0.0.0.0\r\n'),
        local
      );
      expect(audio).toMatchObject({ direction: 'recvonly', onHold: true, remoteAddress: '0.0.0.0' });
      expect(answer).toContain('a=recvonly\r\n');
    });

    it('treats c=IN IP6 :: as hold too', () => {
      const { audio } = createAnswer(offer('m=audio 5000 RTP/AVP 0\r\n', 'c=IN IP6 ::\r\n'), local);
      expect(audio).toMatchObject({ direction: 'recvonly', onHold: true });
    });

    // The c= address is where RTP goes before the peer's first packet: one INVITE could aim a
    // 50 packet/s stream at a name it controls (looked up per packet), a LAN multicast group or
    // the broadcast address.
    it.each([
      ['a host name', 'c=IN IP4 media.example.com'],
      ['an IPv6 literal under IP4', 'c=IN IP4 ::1'],
      ['an IPv4 literal under IP6', 'c=IN IP6 192.0.2.10'],
      ['IPv4 multicast', 'c=IN IP4 224.0.0.251/127'],
      ['IPv6 multicast', 'c=IN IP6 ff02::fb'],
      ['the broadcast address', 'c=IN IP4 255.255.255.255'],
      ['another network type', 'c=ATM NSAP 47.0005.80.ffe100.0000.f21a.0000.0000.0001.0001.00']
    ])('refuses %s as the media address (488)', (_what, line) => {
      const error = negotiationError(() =>
        createAnswer(offer('m=audio 5000 RTP/AVP 0\r\n', `${line}\r\n`), local)
      );
      expect(error.message).toMatch(/IP literal|multicast or broadcast/);
    });

    it('takes an a=rtcp address only as an IP literal of its family, and a ptime below 1 ms as none', () => {
      const named = createAnswer(
        offer('m=audio 5000 RTP/AVP 0\r\na=rtcp:5001 IN IP4 evil.example\r\na=ptime:0.4\r\n'),
        local
      ).audio;
      expect(named.remoteRtcpAddress).toBe('192.0.2.10');
      expect(named.remoteRtcpPort).toBe(5001);
      expect(named.ptimeMs).toBe(20);
      const literal = createAnswer(
        offer('m=audio 5000 RTP/AVP 0\r\na=rtcp:5003 IN IP4 192.0.2.11\r\n'),
        local
      ).audio;
      expect(literal.remoteRtcpAddress).toBe('192.0.2.11');
      // Null, multicast and broadcast addresses are no place for RTCP: the c= address stands.
      for (const address of ['0.0.0.0', '224.0.0.1', '255.255.255.255']) {
        const audio = createAnswer(
          offer(`m=audio 5000 RTP/AVP 0\r\na=rtcp:5003 IN IP4 ${address}\r\n`),
          local
        ).audio;
        expect(audio.remoteRtcpAddress, address).toBe('192.0.2.10');
      }
      // a=rtcp:0 names no port: RTP + 1 stands, where it was taken as port 0.
      expect(createAnswer(offer('m=audio 5000 RTP/AVP 0\r\na=rtcp:0\r\n'), local).audio.remoteRtcpPort).toBe(
        5001
      );
    });

    it('applies a session-level a=sendonly to the audio stream', () => {
      const { audio } = createAnswer(
        offer('m=audio 5000 RTP/AVP 0\r\n', 'c=IN IP4 192.0.2.10\r\na=sendonly\r\n'),
        local
      );
      expect(audio).toMatchObject({ direction: 'recvonly', onHold: true });
    });
  });
});

describe('RTP profiles with RTCP feedback (RFC 4585, RFC 5124)', () => {
  const pcmu = (profile: string, extra = ''): string =>
    `m=audio 7000 ${profile} 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-fb:0 nack\r\n${extra}`;
  const crypto = 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n';

  it('answers RTP/AVPF in kind, asking no feedback', () => {
    const answer = parseSdp(createAnswer(offer(pcmu('RTP/AVPF')), local).answer);
    expect(answer.media[0].protocol).toBe('RTP/AVPF');
    expect(answer.media[0].attributes.some((a) => a.name === 'rtcp-fb')).toBe(false);
  });

  it('answers RTP/SAVPF with SDES keys in kind, and refuses it with SRTP off', () => {
    const { answer, audio } = createAnswer(offer(pcmu('RTP/SAVPF', crypto)), {
      ...local,
      srtp: 'offered',
      sdesKeys: generateSdesKeys()
    });
    expect(parseSdp(answer).media[0].protocol).toBe('RTP/SAVPF');
    expect(audio.srtp?.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(() => createAnswer(offer(pcmu('RTP/SAVPF', crypto)), local)).toThrow(SdpNegotiationError);
  });
});

describe('media address families (LocalMediaCapabilities.mediaFamilies)', () => {
  const v6 = 'c=IN IP6 2001:db8::10\r\n';
  const pcmu = 'm=audio 7000 RTP/AVP 0\r\n';

  it('refuses a stream of a family our RTP cannot reach with Warning 301, and takes it when it can', () => {
    const error = negotiationError(() => createAnswer(offer(pcmu, v6), { ...local, mediaFamilies: ['IP4'] }));
    expect(error.warning).toEqual({ code: 301, text: 'Incompatible network address formats' });
    expect(
      createAnswer(offer(pcmu, v6), { ...local, mediaFamilies: ['IP4', 'IP6'] }).audio.remoteAddress
    ).toBe('2001:db8::10');
    expect(createAnswer(offer(pcmu, v6), local).audio.remoteAddress).toBe('2001:db8::10');
  });

  it('sends RTCP to the c= address when a=rtcp names one of a family our RTP cannot reach', () => {
    const rtcpV6 = offer(`${pcmu}a=rtcp:7001 IN IP6 2001:db8::11\r\n`);
    expect(createAnswer(rtcpV6, { ...local, mediaFamilies: ['IP4'] }).audio).toMatchObject({
      remoteRtcpAddress: '192.0.2.10',
      remoteRtcpPort: 7001
    });
    expect(createAnswer(rtcpV6, { ...local, mediaFamilies: ['IP4', 'IP6'] }).audio).toMatchObject({
      remoteRtcpAddress: '2001:db8::11',
      remoteRtcpPort: 7001
    });
    // The same of an answer to our offer.
    const session = new SdpSession({ ...local, mediaFamilies: ['IP4'] });
    session.createOffer();
    expect(session.processAnswer(rtcpV6)).toMatchObject({ remoteRtcpAddress: '192.0.2.10' });
  });

  it("reads the stream's own c= over the session's", () => {
    const media = `${pcmu}c=IN IP4 192.0.2.30\r\n`;
    expect(createAnswer(offer(media, v6), { ...local, mediaFamilies: ['IP4'] }).audio.remoteAddress).toBe(
      '192.0.2.30'
    );
  });

  it('refuses an answer to our offer that names a family we cannot reach', () => {
    const ours = createOffer(local);
    const answer = `v=0\r\no=peer 5 5 IN IP6 2001:db8::20\r\ns=-\r\n${v6}t=0 0\r\n${pcmu}`;
    expect(processAnswer(ours, answer).remoteAddress).toBe('2001:db8::10');
    const session = new SdpSession({ ...local, mediaFamilies: ['IP4'] });
    session.createOffer();
    expect(negotiationError(() => session.processAnswer(answer)).warning?.code).toBe(301);
  });

  it('says why in the warnings of no common codec (305) and no audio stream (304)', () => {
    expect(
      negotiationError(() => createAnswer(offer('m=audio 7000 RTP/AVP 18\r\n'), local)).warning?.code
    ).toBe(305);
    expect(
      negotiationError(() => createAnswer(offer('m=video 7000 RTP/AVP 31\r\n'), local)).warning?.code
    ).toBe(304);
  });

  it('takes only IP4 and IP6, at least one', () => {
    expect(() => createOffer({ ...local, mediaFamilies: [] })).toThrow(TypeError);
    expect(() => createOffer({ ...local, mediaFamilies: ['IP5' as 'IP4'] })).toThrow(TypeError);
  });
});

describe('processAnswer', () => {
  const ourOffer = createOffer({ ...local, codecs: ['PCMU', 'PCMA', 'L16'] });
  const answer = (media: string, session = 'c=IN IP4 192.0.2.20\r\n'): string =>
    `v=0\r\no=peer 5 5 IN IP4 192.0.2.20\r\ns=-\r\n${session}t=0 0\r\n${media}`;

  it("takes the first codec of the answer that we offered, with the answer's payload types", () => {
    const audio = processAnswer(
      ourOffer,
      answer(
        'm=audio 7000 RTP/AVP 8 0 100\r\na=rtpmap:100 telephone-event/8000\r\na=fmtp:100 0-15\r\na=ptime:40\r\n'
      )
    );
    expect(audio).toEqual({
      codec: 'PCMA',
      payloadType: 8,
      clockRateHz: 8000,
      channels: 1,
      telephoneEventPayloadType: 100,
      telephoneEventClockRateHz: 8000,
      ptimeMs: 40,
      remoteAddress: '192.0.2.20',
      remotePort: 7000,
      remoteRtcpPort: 7001,
      remoteRtcpAddress: '192.0.2.20',
      direction: 'sendrecv',
      onHold: false
    });
  });

  it('accepts our own answer to our own offer (round trip through createAnswer)', () => {
    const { answer: ours } = createAnswer(ourOffer, {
      ...local,
      address: '10.1.1.1',
      port: 30000,
      codecs: ['L16']
    });
    expect(processAnswer(ourOffer, ours)).toMatchObject({
      codec: 'L16',
      payloadType: 96,
      clockRateHz: 16000,
      remotePort: 30000,
      ptimeMs: 20
    });
  });

  it('reports hold when the answer refuses to receive what we offered to send', () => {
    expect(processAnswer(ourOffer, answer('m=audio 7000 RTP/AVP 0\r\na=sendonly\r\n'))).toMatchObject({
      direction: 'recvonly',
      onHold: true
    });
    expect(processAnswer(ourOffer, answer('m=audio 7000 RTP/AVP 0\r\n', 'c=IN IP4 0.0.0.0\r\n')).onHold).toBe(
      true
    );
    // Our own hold offer answered recvonly is not the peer holding us.
    const holdOffer = createOffer({ ...local, direction: 'sendonly' });
    expect(processAnswer(holdOffer, answer('m=audio 7000 RTP/AVP 0\r\na=recvonly\r\n'))).toMatchObject({
      direction: 'sendonly',
      onHold: false
    });
  });

  it('rejects answers that do not fit the offer with SdpNegotiationError', () => {
    expect(
      negotiationError(() => processAnswer(ourOffer, answer('m=audio 0 RTP/AVP 0\r\n'))).message
    ).toMatch(/rejected every audio/);
    expect(
      negotiationError(() => processAnswer(ourOffer, answer('m=audio 7000 RTP/AVP 18\r\n'))).message
    ).toMatch(/no codec we offered/);
    negotiationError(() =>
      processAnswer(ourOffer, answer('m=audio 7000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n'))
    );
    negotiationError(() => processAnswer(ourOffer, answer('m=video 7000 RTP/AVP 31\r\n')));
    expect(() => processAnswer(ourOffer, 'v=0\r\n')).toThrow(SdpParseError);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SdpNegotiationError,
  SdpSession,
  createAnswer,
  parseCryptoAttribute,
  parseSdp,
  type LocalMediaCapabilities
} from '../../sip/sdp/index.js';
import { generateSdesKeys } from '../../sip/sdp/sdes.js';

const keys = generateSdesKeys();
const local = (srtp: LocalMediaCapabilities['srtp']): LocalMediaCapabilities => ({
  address: '127.0.0.1',
  port: 20000,
  codecs: ['PCMU', 'PCMA'],
  telephoneEvent: true,
  srtp,
  sdesKeys: srtp === 'off' ? undefined : keys
});

const theirKey = randomBytes(30);
const inline = theirKey.toString('base64');

function offer(profile: string, cryptoLines: string[]): string {
  const crypto = cryptoLines.map((line) => `a=crypto:${line}\r\n`).join('');
  return `v=0\r\no=peer 99 7 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 ${profile} 0 101\r\na=rtpmap:101 telephone-event/8000\r\n${crypto}`;
}

function refusal(run: () => unknown): SdpNegotiationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SdpNegotiationError);
    expect((error as SdpNegotiationError).status).toBe(488);
    return error as SdpNegotiationError;
  }
  throw new Error('expected a 488 SdpNegotiationError');
}

describe('a=crypto (RFC 4568)', () => {
  it('parses an inline key with a lifetime, and skips MKIs, session parameters, other suites and short keys', () => {
    expect(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${inline}|2^31`)).toEqual({
      tag: 1,
      suite: 'AES_CM_128_HMAC_SHA1_80',
      keySalt: theirKey
    });
    expect(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${inline}|2^20|1:4`)).toBeUndefined();
    expect(
      parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${inline} UNENCRYPTED_SRTP`)
    ).toBeUndefined();
    expect(parseCryptoAttribute(`1 AES_256_CM_HMAC_SHA1_80 inline:${inline}`)).toBeUndefined();
    expect(
      parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${randomBytes(16).toString('base64')}`)
    ).toBeUndefined();
    expect(parseCryptoAttribute('garbage')).toBeUndefined();
    // Not base64 of 30 bytes, though Node's decoder (which drops a trailing odd character) says so.
    expect(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${inline}A`)).toBeUndefined();
    expect(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${inline}==`)).toBeUndefined();
  });
});

describe('SRTP policy in offers', () => {
  it('required: offers RTP/SAVP with one crypto line per suite, each with its own 30-byte key', () => {
    const session = new SdpSession({ ...local('required'), sdesKeys: undefined });
    const sdp = parseSdp(session.createOffer());
    expect(sdp.media[0].protocol).toBe('RTP/SAVP');
    const lines = sdp.media[0].attributes
      .filter((a) => a.name === 'crypto')
      .map((a) => parseCryptoAttribute(a.value ?? '')!);
    expect(lines.map((c) => [c.tag, c.suite])).toEqual([
      [1, 'AES_CM_128_HMAC_SHA1_80'],
      [2, 'AES_CM_128_HMAC_SHA1_32']
    ]);
    expect(lines[0].keySalt.equals(lines[1].keySalt)).toBe(false);
    // Keys are per call: another session offers other keys.
    const other = parseSdp(new SdpSession({ ...local('required'), sdesKeys: undefined }).createOffer());
    const otherKey = parseCryptoAttribute(
      other.media[0].attributes.find((a) => a.name === 'crypto')!.value!
    )!.keySalt;
    expect(otherKey.equals(lines[0].keySalt)).toBe(false);
  });

  it('offered: RTP/AVP carrying a=crypto; off: plain RTP/AVP', () => {
    const offered = parseSdp(new SdpSession(local('offered')).createOffer());
    expect(offered.media[0].protocol).toBe('RTP/AVP');
    expect(offered.media[0].attributes.filter((a) => a.name === 'crypto')).toHaveLength(2);
    const off = parseSdp(new SdpSession(local('off')).createOffer());
    expect(off.media[0].protocol).toBe('RTP/AVP');
    expect(off.media[0].attributes.some((a) => a.name === 'crypto')).toBe(false);
  });
});

describe('SRTP policy in answers', () => {
  it('answers an RTP/SAVP offer with the first usable suite, its tag and our key', () => {
    const { answer, audio } = createAnswer(
      offer('RTP/SAVP', [
        `1 AES_256_CM_HMAC_SHA1_80 inline:${randomBytes(46).toString('base64')}`,
        `7 AES_CM_128_HMAC_SHA1_32 inline:${inline}`
      ]),
      local('offered')
    );
    const media = parseSdp(answer).media[0];
    expect(media.protocol).toBe('RTP/SAVP');
    const line = parseCryptoAttribute(media.attributes.find((a) => a.name === 'crypto')!.value!)!;
    expect(line.tag).toBe(7);
    expect(line.suite).toBe('AES_CM_128_HMAC_SHA1_32');
    expect(line.keySalt.equals(keys[1].keySalt)).toBe(true);
    expect(audio.srtp).toEqual({
      suite: 'AES_CM_128_HMAC_SHA1_32',
      localKeySalt: keys[1].keySalt,
      remoteKeySalt: theirKey
    });
  });

  it('required: a plain RTP offer gets 488 and says why', () => {
    expect(refusal(() => createAnswer(offer('RTP/AVP', []), local('required'))).message).toMatch(
      /SRTP is required/
    );
  });

  it('required: an RTP/SAVP offer with no usable crypto line gets 488', () => {
    expect(
      refusal(() =>
        createAnswer(
          offer('RTP/SAVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${inline}|2^20|1:4`]),
          local('required')
        )
      ).message
    ).toMatch(/no offered a=crypto/);
  });

  it('off: an RTP/SAVP offer gets 488; best-effort a=crypto on RTP/AVP is answered in plain', () => {
    expect(
      refusal(() =>
        createAnswer(offer('RTP/SAVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${inline}`]), local('off'))
      ).message
    ).toMatch(/SRTP is off/);
    const { answer, audio } = createAnswer(
      offer('RTP/AVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${inline}`]),
      local('off')
    );
    expect(audio.srtp).toBeUndefined();
    expect(answer).not.toMatch(/a=crypto/);
  });

  it('offered: takes best-effort SRTP on RTP/AVP, and plain RTP when no key is offered', () => {
    const { answer, audio } = createAnswer(
      offer('RTP/AVP', [`3 AES_CM_128_HMAC_SHA1_80 inline:${inline}`]),
      local('offered')
    );
    expect(parseSdp(answer).media[0].protocol).toBe('RTP/AVP');
    expect(answer).toMatch(/a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:/);
    expect(audio.srtp?.remoteKeySalt.equals(theirKey)).toBe(true);
    expect(createAnswer(offer('RTP/AVP', []), local('offered')).audio.srtp).toBeUndefined();
  });
});

describe('SRTP offer/answer between two sessions', () => {
  it("each side ends with its own key to send and the other side's key to receive", () => {
    const alice = new SdpSession({ ...local('required'), sdesKeys: undefined });
    const bob = new SdpSession({ ...local('offered'), sdesKeys: undefined, port: 30000 });
    const { answer, audio: bobAudio } = bob.createAnswer(alice.createOffer());
    const aliceAudio = alice.processAnswer(answer);
    expect(aliceAudio.srtp?.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(aliceAudio.srtp?.localKeySalt.equals(bobAudio.srtp!.remoteKeySalt)).toBe(true);
    expect(aliceAudio.srtp?.remoteKeySalt.equals(bobAudio.srtp!.localKeySalt)).toBe(true);
    expect(aliceAudio.srtp?.localKeySalt.equals(aliceAudio.srtp.remoteKeySalt)).toBe(false);
  });

  it('refuses our own key sent back, in an offer or an answer: our reflected packets would authenticate', () => {
    const ours = keys[0].keySalt.toString('base64');
    expect(
      refusal(() =>
        createAnswer(offer('RTP/SAVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${ours}`]), local('required'))
      ).message
    ).toMatch(/no offered a=crypto/);
    const alice = new SdpSession(local('required'));
    const echoed = alice.createOffer().replace(/o=[^\r\n]*/, 'o=bob 1 1 IN IP4 192.0.2.20');
    expect(() => alice.processAnswer(echoed)).toThrow(/our own/);
  });

  it('an answer without crypto to our RTP/SAVP offer is refused', () => {
    const alice = new SdpSession({ ...local('required'), sdesKeys: undefined });
    const sent = alice.createOffer();
    const plainAnswer = sent
      .replace(/a=crypto:[^\r\n]*\r\n/g, '')
      .replace(/o=[^\r\n]*/, 'o=bob 1 1 IN IP4 192.0.2.20');
    expect(() => alice.processAnswer(plainAnswer)).toThrow(SdpNegotiationError);
  });
});

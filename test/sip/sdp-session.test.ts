import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SdpNegotiationError,
  SdpSession,
  SdpStateError,
  createAnswer,
  mediaDirection,
  parseSdp
} from '../../sip/sdp/index.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/sdp/${name}`, import.meta.url), 'utf8');
const local = { address: '127.0.0.1', port: 20000, codecs: ['PCMU', 'PCMA'] as const, telephoneEvent: true };
const caps = { ...local, codecs: [...local.codecs] };
const peer = { address: '192.0.2.20', port: 7000, codecs: ['PCMU' as const], telephoneEvent: true };

const origin = (text: string) => parseSdp(text).origin;
const direction = (text: string) => {
  const desc = parseSdp(text);
  return mediaDirection(desc, desc.media[0]);
};

describe('SdpSession', () => {
  it('keeps o= identical except a version that increments on each offer and answer (RFC 3264 §8)', () => {
    const session = new SdpSession({ ...caps, sessionVersion: 5, username: 'uasmedia' });
    expect(session.sessionVersion).toBeUndefined();
    const first = session.createOffer();
    session.processAnswer(createAnswer(first, peer).answer);
    const { answer } = session.createAnswer(fixture('sipp-uac.sdp'));
    const third = session.createOffer();
    expect([first, answer, third].map((text) => origin(text).sessionVersion)).toEqual(['5', '6', '7']);
    expect(session.sessionVersion).toBe(7);
    const { sessionVersion: _v, ...stable } = origin(first);
    for (const text of [answer, third]) expect(origin(text)).toMatchObject(stable);
    expect(stable).toMatchObject({ username: 'uasmedia', sessionId: session.sessionId });
  });

  it('puts the peer on hold and resumes with new offers, remembering the direction in between', () => {
    const session = new SdpSession(caps);
    session.processAnswer(createAnswer(session.createOffer(), peer).answer);
    const hold = session.hold();
    expect(direction(hold)).toBe('sendonly');
    const held = session.processAnswer(createAnswer(hold, peer).answer);
    expect(held).toMatchObject({ direction: 'sendonly', onHold: false });
    // A later refresh offer stays on hold until resume().
    expect(direction(session.createOffer())).toBe('sendonly');
    session.cancelOffer();
    const resume = session.resume();
    expect(direction(resume)).toBe('sendrecv');
    expect(session.processAnswer(createAnswer(resume, peer).answer).direction).toBe('sendrecv');
    // The cancelled offer used version 2; versions are never reused.
    expect(origin(resume).sessionVersion).toBe('3');
  });

  it("answers a peer's hold re-INVITE and its resume", () => {
    const session = new SdpSession(caps);
    const sendrecv = fixture('sipp-uac.sdp');
    expect(session.createAnswer(sendrecv).audio.onHold).toBe(false);
    const holdOffer = sendrecv.replace('a=rtpmap:0 PCMU/8000\r\n', 'a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n');
    const held = session.createAnswer(holdOffer);
    expect(held.audio).toMatchObject({ onHold: true, direction: 'recvonly' });
    expect(session.negotiated).toBe(held.audio);
    expect(session.createAnswer(sendrecv).audio).toMatchObject({ onHold: false, direction: 'sendrecv' });
  });

  it('leaves the session unchanged when an offer gets 488', () => {
    const session = new SdpSession(caps);
    const agreed = session.createAnswer(fixture('sipp-uac.sdp')).audio;
    expect(() => session.createAnswer(fixture('rfc5118-ipv6-in-sdp.sdp'))).toThrow(SdpNegotiationError);
    expect(session.negotiated).toBe(agreed);
    expect(session.sessionVersion).toBe(0);
  });

  it('enforces the offer/answer order with SdpStateError', () => {
    const session = new SdpSession(caps);
    expect(() => session.processAnswer(fixture('sipp-uac.sdp'))).toThrow(SdpStateError);
    session.createOffer();
    expect(session.offerPending).toBe(true);
    expect(() => session.createAnswer(fixture('sipp-uac.sdp'))).toThrow(/our own offer is pending/);
    // A bad answer drops the offer; the session is usable again.
    expect(() => session.processAnswer('v=0\r\nm=audio 0 RTP/AVP 0\r\n')).toThrow();
    expect(session.offerPending).toBe(false);
    expect(session.createAnswer(fixture('sipp-uac.sdp')).audio.codec).toBe('PCMU');
  });

  it('applies capability changes to later descriptions', () => {
    const session = new SdpSession(caps);
    const offer = session.createOffer({ port: 30000, codecs: ['PCMA'] });
    expect(parseSdp(offer).media[0]).toMatchObject({ port: 30000, formats: ['8', '101'] });
    expect(session.local.port).toBe(30000);
    expect(() => session.createOffer({ port: -1 })).toThrow(RangeError);
  });
});

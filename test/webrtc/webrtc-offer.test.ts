/** What the engine checks in a browser's offer before any peer connection exists. */
import { describe, expect, it } from 'vitest';
import { SdpNegotiationError } from '../../sip/index.js';
import { checkWebRtcOffer } from '../../engine/webrtc/webrtc-offer.js';

function offer(sections: string[], candidatesPerSection = 2): string {
  const session = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=fingerprint:sha-256 AB:CD'];
  const media = sections.flatMap((m, i) => [
    m,
    'c=IN IP4 127.0.0.1',
    'a=rtpmap:111 opus/48000/2',
    ...Array.from(
      { length: candidatesPerSection },
      (_, c) => `a=candidate:${i}${c} 1 udp 2122260223 127.0.0.5 ${10000 + 10 * i + c} typ host`
    )
  ]);
  return [...session, ...media, ''].join('\r\n');
}

const AUDIO = 'm=audio 9 UDP/TLS/RTP/SAVPF 111';

describe('checkWebRtcOffer', () => {
  it("takes a browser's offer: audio, with video and data beside it", () => {
    expect(() => checkWebRtcOffer(offer([AUDIO]))).not.toThrow();
    expect(() =>
      checkWebRtcOffer(
        offer([AUDIO, 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel'])
      )
    ).not.toThrow();
  });

  it('refuses more open sections or candidates than a browser sends (each costs sockets or checks)', () => {
    // 300 sections made the peer connection open about 2,400 sockets for one INVITE.
    expect(() =>
      checkWebRtcOffer(
        offer(
          Array.from({ length: 300 }, () => AUDIO),
          0
        )
      )
    ).toThrow(SdpNegotiationError);
    expect(() =>
      checkWebRtcOffer(
        offer(
          Array.from({ length: 5 }, () => AUDIO),
          0
        )
      )
    ).toThrow(/5 of them open/);
    expect(() =>
      checkWebRtcOffer(
        offer([AUDIO, ...Array.from({ length: 20 }, () => 'm=audio 0 UDP/TLS/RTP/SAVPF 111')], 0)
      )
    ).toThrow(/21 media sections/);
    expect(() => checkWebRtcOffer(offer([AUDIO], 33))).toThrow(/33 ICE candidates/);
    expect(() => checkWebRtcOffer(offer([AUDIO], 32))).not.toThrow();
  });
});

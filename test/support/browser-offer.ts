/**
 * A browser's offer as Chrome writes one for audio (ICE credentials, a DTLS fingerprint, Opus,
 * rtcp-mux), with the candidates given (none by default): for tests that speak SIP by hand.
 */
export function browserOffer(candidates: string[] = []): string {
  const fingerprint = Array.from({ length: 32 }, (_, i) =>
    (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0')
  );
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    `a=fingerprint:sha-256 ${fingerprint.join(':')}`,
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    'a=setup:actpass',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=sendrecv',
    ...candidates,
    ''
  ].join('\r\n');
}

/**
 * An offer of `count` open audio sections without BUNDLE, each with its own ICE credentials (so
 * its own ICE transport, and its own sockets), as a hostile page may write one.
 */
export function unbundledOffer(count: number): string {
  const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 5 + 16).toString(16).toUpperCase());
  const section = (mid: number): string[] => [
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    `a=mid:${mid}`,
    `a=ice-ufrag:uf${mid}x`,
    `a=ice-pwd:abcdefghijklmnopqrstu${String(mid).padStart(3, '0')}`,
    'a=setup:actpass',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=sendrecv'
  ];
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=fingerprint:sha-256 ${fingerprint.join(':')}`,
    ...Array.from({ length: count }, (_, mid) => section(mid)).flat(),
    ''
  ].join('\r\n');
}

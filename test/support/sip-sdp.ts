/** Minimal SDP bodies for SIP-level tests (the application's part, built by the test). */
export function testSdp(
  port: number,
  sessionVersion = 1,
  direction = 'sendrecv',
  address = '127.0.0.1'
): string {
  return [
    'v=0',
    `o=- 1 ${sessionVersion} IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    `a=${direction}`,
    ''
  ].join('\r\n');
}

/**
 * A SIP-I trunk's message body (RFC 3204): the SDP in multipart/mixed beside an ISUP part whose
 * Content-Disposition says whether a receiver that cannot read ISUP may ignore it (RFC 5621).
 */

export const SIP_I_CONTENT_TYPE = 'multipart/mixed;boundary=unique-boundary-1';

/** An IAM's first bytes (binary; kept to ASCII so a test's text stays as sent). */
const ISUP_IAM = '\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x32\x54\x76';

/** `sdp` and an ISUP part with `handling`, as the body of a message whose type is SIP_I_CONTENT_TYPE. */
export function sipIBody(sdp: string, handling: 'optional' | 'required' = 'optional'): string {
  return [
    '--unique-boundary-1',
    'Content-Type: application/sdp',
    '',
    sdp,
    '--unique-boundary-1',
    'Content-Type: application/ISUP;version=itu-t92+',
    `Content-Disposition: signal;handling=${handling}`,
    '',
    ISUP_IAM,
    '--unique-boundary-1--',
    ''
  ].join('\r\n');
}

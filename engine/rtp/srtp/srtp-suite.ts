/**
 * The SRTP crypto suites uasmedia speaks (RFC 4568 §6.2): AES in counter mode with a 128-bit
 * key and 112-bit salt, HMAC-SHA1 authentication with an 80- or 32-bit tag on SRTP. SRTCP always
 * carries the 80-bit tag (RFC 4568 §6.2.2, RFC 3711 §5.2).
 */

export type SrtpSuiteName = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export interface SrtpSuite {
  readonly name: SrtpSuiteName;
  readonly masterKeyBytes: 16;
  readonly masterSaltBytes: 14;
  /** Authentication tag on SRTP packets. */
  readonly rtpTagBytes: number;
  /** Authentication tag on SRTCP packets. */
  readonly rtcpTagBytes: 10;
}

export const SRTP_SUITES: Readonly<Record<SrtpSuiteName, SrtpSuite>> = {
  AES_CM_128_HMAC_SHA1_80: {
    name: 'AES_CM_128_HMAC_SHA1_80',
    masterKeyBytes: 16,
    masterSaltBytes: 14,
    rtpTagBytes: 10,
    rtcpTagBytes: 10
  },
  AES_CM_128_HMAC_SHA1_32: {
    name: 'AES_CM_128_HMAC_SHA1_32',
    masterKeyBytes: 16,
    masterSaltBytes: 14,
    rtpTagBytes: 4,
    rtcpTagBytes: 10
  }
};

/** Master key and salt together, as SDES carries them (`inline:` key||salt). */
export const MASTER_KEY_SALT_BYTES = 30;

export function isSrtpSuiteName(name: string): name is SrtpSuiteName {
  return Object.hasOwn(SRTP_SUITES, name);
}

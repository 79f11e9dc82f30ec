/**
 * The SRTP key derivation function (RFC 3711 §4.3) with a key derivation rate of 0, the only
 * one SDES peers use in practice: each session key is the AES-CM keystream under the master
 * key, started at (master salt XOR label) shifted left by 16 bits (§4.3.3).
 */
import { createCipheriv } from 'node:crypto';

/** §4.3.2 labels. */
export const SRTP_LABEL = {
  rtpEncryption: 0x00,
  rtpAuthentication: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuthentication: 0x04,
  rtcpSalt: 0x05
} as const;

export interface SessionKeys {
  encryptionKey: Buffer;
  authenticationKey: Buffer;
  salt: Buffer;
}

/** One session key of `bytes` length for `label` (§4.3.1, r = 0). */
export function deriveSessionKey(
  masterKey: Buffer,
  masterSalt: Buffer,
  label: number,
  bytes: number
): Buffer {
  if (masterSalt.length !== 14)
    throw new RangeError(`master salt must be 14 bytes, got ${masterSalt.length}`);
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  // key_id = label || r (48 bits of zero) sits in the low 56 bits of the 112-bit salt.
  iv[7] ^= label;
  const cipher = createCipheriv(`aes-${masterKey.length * 8}-ctr`, masterKey, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(bytes)), cipher.final()]);
}

export function deriveRtpKeys(masterKey: Buffer, masterSalt: Buffer): SessionKeys {
  return {
    encryptionKey: deriveSessionKey(masterKey, masterSalt, SRTP_LABEL.rtpEncryption, masterKey.length),
    authenticationKey: deriveSessionKey(masterKey, masterSalt, SRTP_LABEL.rtpAuthentication, 20),
    salt: deriveSessionKey(masterKey, masterSalt, SRTP_LABEL.rtpSalt, 14)
  };
}

export function deriveRtcpKeys(masterKey: Buffer, masterSalt: Buffer): SessionKeys {
  return {
    encryptionKey: deriveSessionKey(masterKey, masterSalt, SRTP_LABEL.rtcpEncryption, masterKey.length),
    authenticationKey: deriveSessionKey(masterKey, masterSalt, SRTP_LABEL.rtcpAuthentication, 20),
    salt: deriveSessionKey(masterKey, masterSalt, SRTP_LABEL.rtcpSalt, 14)
  };
}

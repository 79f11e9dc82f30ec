/**
 * SDP Security Descriptions (RFC 4568): the `a=crypto` attribute that carries an SRTP master
 * key in the clear of the signalling (so it belongs on TLS), the SRTP policy a call follows,
 * and the choice of a crypto line from an offer. Only what uasmedia can honour is accepted:
 * the two AES_CM_128 suites with one inline key, no MKI and no session parameters; other
 * lines are skipped, as §6.1 of the RFC lets an answerer do.
 */
import { randomBytes } from 'node:crypto';
import { attributeValues, type MediaDescription } from './session-description.js';

export type SdesSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

/**
 * `off`: plain RTP only (an offer of RTP/SAVP is refused). `offered`: our offers carry
 * a=crypto on RTP/AVP (best effort) and we answer with SRTP whenever the peer offers it.
 * `required`: we offer RTP/SAVP and refuse (488) an offer without usable keys.
 */
export const SRTP_POLICIES = ['off', 'offered', 'required'] as const;
export type SrtpPolicy = (typeof SRTP_POLICIES)[number];

export const SDES_SUITES: readonly SdesSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/** 128-bit master key plus 112-bit master salt (RFC 4568 §6.2). */
export const SDES_KEY_SALT_BYTES = 30;

export interface SdesCrypto {
  /** Decimal tag that pairs an answer's line with the offer's (§9.1). */
  tag: number;
  suite: SdesSuite;
  /** Master key || master salt. */
  keySalt: Buffer;
}

/** What was agreed for SRTP: our key protects what we send, theirs what we receive. */
export interface NegotiatedSrtp {
  suite: SdesSuite;
  localKeySalt: Buffer;
  remoteKeySalt: Buffer;
}

const CRYPTO = /^(\d{1,9})\s+(\S+)\s+inline:([A-Za-z0-9+/]+={0,2})((?:\|[^\s|]*)*)(?:\s+(.*))?$/;
const LIFETIME = /^(?:2\^)?\d+$/;

/** Parses one a=crypto value; undefined for a suite, key or parameter we cannot use. */
export function parseCryptoAttribute(value: string): SdesCrypto | undefined {
  const m = CRYPTO.exec(value.trim());
  if (!m) return undefined;
  const [, tagText, suite, base64, extras, sessionParams] = m;
  if (!(SDES_SUITES as readonly string[]).includes(suite)) return undefined;
  // §6.3: session parameters (KDR, UNENCRYPTED_SRTP, ...) change the transform: not supported.
  if (sessionParams !== undefined && sessionParams.trim() !== '') return undefined;
  for (const extra of extras.split('|').slice(1)) {
    // A lifetime is fine (we never reach 2^31 packets in a call); an MKI changes the packet format.
    if (!LIFETIME.test(extra)) return undefined;
  }
  const keySalt = Buffer.from(base64, 'base64');
  // Node drops what does not fit whole bytes: a 41-character value decoded to 30 bytes all the same.
  if (keySalt.length !== SDES_KEY_SALT_BYTES || keySalt.toString('base64') !== base64) return undefined;
  return { tag: Number(tagText), suite: suite as SdesSuite, keySalt };
}

export function formatCryptoAttribute(crypto: SdesCrypto): string {
  return `${crypto.tag} ${crypto.suite} inline:${crypto.keySalt.toString('base64')}`;
}

/** The usable crypto lines of a media description, in the order written (the sender's preference). */
export function mediaCryptos(media: MediaDescription): SdesCrypto[] {
  const result: SdesCrypto[] = [];
  for (const value of attributeValues(media.attributes, 'crypto')) {
    const crypto = parseCryptoAttribute(value);
    if (crypto !== undefined) result.push(crypto);
  }
  return result;
}

/** True when the media description has any a=crypto line, usable or not. */
export function hasCryptoAttribute(media: MediaDescription): boolean {
  return media.attributes.some((attribute) => attribute.name === 'crypto');
}

/** Fresh keys for our offers and answers, one per suite, from the system's CSPRNG. */
export function generateSdesKeys(): SdesCrypto[] {
  return SDES_SUITES.map((suite, index) => ({
    tag: index + 1,
    suite,
    keySalt: randomBytes(SDES_KEY_SALT_BYTES)
  }));
}

/** RTP/SAVP (RFC 3711 §12), or RTP/SAVPF with RTCP feedback (RFC 5124): the profiles that say SRTP and nothing else. */
export function isRtpSavp(media: MediaDescription): boolean {
  const protocol = media.protocol.toUpperCase();
  return protocol === 'RTP/SAVP' || protocol === 'RTP/SAVPF';
}

/**
 * The typed object model of an SDP session description (RFC 4566 §5) and the small lookups
 * offer/answer needs on it: attributes by name, and the connection address and direction that
 * apply to one media description once session-level defaults are taken into account.
 *
 * `parse.ts` builds it from text and `serialize.ts` writes it back; the model itself is plain
 * data so callers can inspect or edit it freely.
 */

/** `c=` (RFC 4566 §5.7). `ttl` and `addressCount` only appear for multicast addresses. */
export interface SdpConnection {
  netType: string; // "IN"
  addressType: string; // "IP4" | "IP6" (others are kept but never negotiated)
  address: string;
  ttl?: number;
  addressCount?: number;
}

/** `o=` (RFC 4566 §5.2). Id and version stay strings: they may exceed 2^53. */
export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addressType: string;
  address: string;
}

/** `b=<type>:<kbps>` (RFC 4566 §5.8). */
export interface SdpBandwidth {
  type: string;
  value: number;
}

/** `t=` and its `r=` lines (RFC 4566 §5.9, §5.10), kept verbatim. */
export interface SdpTiming {
  startTime: string;
  stopTime: string;
  repeats: string[];
}

/** `a=<name>` or `a=<name>:<value>` (RFC 4566 §5.13). */
export interface SdpAttribute {
  name: string;
  value?: string;
}

/** One `m=` section (RFC 4566 §5.14) with its media-level lines. */
export interface MediaDescription {
  media: string; // "audio", "video", "application", ...
  port: number;
  portCount?: number;
  protocol: string; // "RTP/AVP", ...
  formats: string[]; // payload type numbers for RTP, kept as written
  title?: string; // i=
  connections: SdpConnection[];
  bandwidths: SdpBandwidth[];
  encryptionKey?: string;
  attributes: SdpAttribute[];
}

export interface SessionDescription {
  version: number; // v=, always 0
  origin: SdpOrigin;
  sessionName: string;
  information?: string;
  uri?: string;
  emails: string[];
  phones: string[];
  connection?: SdpConnection;
  bandwidths: SdpBandwidth[];
  timings: SdpTiming[];
  timeZones?: string;
  encryptionKey?: string;
  attributes: SdpAttribute[];
  media: MediaDescription[];
}

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: readonly MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** Value of the first attribute called `name`: `undefined` if absent, `''` if it has no value. */
export function attributeValue(attributes: readonly SdpAttribute[], name: string): string | undefined {
  for (const attribute of attributes) {
    if (attribute.name === name) return attribute.value ?? '';
  }
  return undefined;
}

/** Values of every attribute called `name`, in order. */
export function attributeValues(attributes: readonly SdpAttribute[], name: string): string[] {
  const values: string[] = [];
  for (const attribute of attributes) {
    if (attribute.name === name) values.push(attribute.value ?? '');
  }
  return values;
}

function directionOf(attributes: readonly SdpAttribute[]): MediaDirection | undefined {
  for (const attribute of attributes) {
    if ((DIRECTIONS as readonly string[]).includes(attribute.name)) return attribute.name as MediaDirection;
  }
  return undefined;
}

/**
 * The direction that applies to `media`: its own attribute, else the session-level one, else
 * sendrecv (RFC 3264 §5.1, RFC 4566 §6).
 */
export function mediaDirection(desc: SessionDescription, media: MediaDescription): MediaDirection {
  return directionOf(media.attributes) ?? directionOf(desc.attributes) ?? 'sendrecv';
}

/** The connection that applies to `media`: its first own `c=`, else the session-level one (RFC 4566 §5.7). */
export function mediaConnection(
  desc: SessionDescription,
  media: MediaDescription
): SdpConnection | undefined {
  return media.connections[0] ?? desc.connection;
}

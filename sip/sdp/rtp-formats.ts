/**
 * What the payload types of one RTP `m=` line mean: `a=rtpmap`/`a=fmtp` (RFC 4566 §6) with the
 * static assignments of RFC 3551 §6 for types listed without an rtpmap, plus the other media
 * attributes offer/answer reads (`a=ptime`, `a=maxptime`, `a=rtcp` from RFC 3605) and the
 * RFC 4733 telephone-event list. Malformed optional attributes are treated as absent.
 */

import { isIP } from 'node:net';
import { attributeValue, attributeValues, type MediaDescription } from './session-description.js';

export interface RtpFormat {
  payloadType: number;
  /** As written in the rtpmap (case kept); compare case-insensitively. */
  encodingName: string;
  clockRateHz: number;
  channels: number;
  /** `a=fmtp` parameters, verbatim, if any. */
  parameters?: string;
}

/** RFC 3551 §6 Tables 4 and 5: static payload types, usable without an rtpmap. */
const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, readonly [string, number, number]> = new Map([
  [0, ['PCMU', 8000, 1]],
  [3, ['GSM', 8000, 1]],
  [4, ['G723', 8000, 1]],
  [5, ['DVI4', 8000, 1]],
  [6, ['DVI4', 16000, 1]],
  [7, ['LPC', 8000, 1]],
  [8, ['PCMA', 8000, 1]],
  [9, ['G722', 8000, 1]],
  [10, ['L16', 44100, 2]],
  [11, ['L16', 44100, 1]],
  [12, ['QCELP', 8000, 1]],
  [13, ['CN', 8000, 1]],
  [14, ['MPA', 90000, 1]],
  [15, ['G728', 8000, 1]],
  [16, ['DVI4', 11025, 1]],
  [17, ['DVI4', 22050, 1]],
  [18, ['G729', 8000, 1]],
  [25, ['CelB', 90000, 1]],
  [26, ['JPEG', 90000, 1]],
  [28, ['nv', 90000, 1]],
  [31, ['H261', 90000, 1]],
  [32, ['MPV', 90000, 1]],
  [33, ['MP2T', 90000, 1]],
  [34, ['H263', 90000, 1]]
] as const);

const RTPMAP = /^(\d{1,3})\s+([^/\s]+)\/(\d+)(?:\/(\d+))?\s*$/;
const FMTP = /^(\d{1,3})\s+(.*)$/;

/**
 * Plain RTP: RTP/AVP (RFC 3551), or RTP/AVPF, the same with RTCP feedback (RFC 4585), which we
 * answer in kind and ask no feedback of (no a=rtcp-fb).
 */
export function isRtpAvp(media: MediaDescription): boolean {
  const protocol = media.protocol.toUpperCase();
  return protocol === 'RTP/AVP' || protocol === 'RTP/AVPF';
}

/**
 * The formats of `media` in the order the `m=` line lists them (the sender's preference).
 * Dynamic types without an rtpmap, and formats that are not payload type numbers, are skipped.
 */
export function rtpFormats(media: MediaDescription): RtpFormat[] {
  const maps = new Map<number, RtpFormat>();
  for (const value of attributeValues(media.attributes, 'rtpmap')) {
    const match = RTPMAP.exec(value.trim());
    if (match === null) continue;
    const payloadType = Number(match[1]);
    if (payloadType > 127 || maps.has(payloadType)) continue;
    maps.set(payloadType, {
      payloadType,
      encodingName: match[2],
      clockRateHz: Number(match[3]),
      channels: match[4] === undefined ? 1 : Number(match[4])
    });
  }
  const parameters = new Map<number, string>();
  for (const value of attributeValues(media.attributes, 'fmtp')) {
    const match = FMTP.exec(value.trim());
    if (match !== null && !parameters.has(Number(match[1])))
      parameters.set(Number(match[1]), match[2].trim());
  }

  const formats: RtpFormat[] = [];
  const seen = new Set<number>();
  for (const text of media.formats) {
    if (!/^\d{1,3}$/.test(text)) continue;
    const payloadType = Number(text);
    if (payloadType > 127 || seen.has(payloadType)) continue;
    seen.add(payloadType);
    let format = maps.get(payloadType);
    if (format === undefined) {
      const known = STATIC_PAYLOAD_TYPES.get(payloadType);
      if (known === undefined) continue;
      format = { payloadType, encodingName: known[0], clockRateHz: known[1], channels: known[2] };
    }
    const fmtp = parameters.get(payloadType);
    formats.push(fmtp === undefined ? format : { ...format, parameters: fmtp });
  }
  return formats;
}

function positiveNumberAttribute(media: MediaDescription, name: string): number | undefined {
  const value = attributeValue(media.attributes, name);
  if (value === undefined) return undefined;
  const number = Math.round(Number(value.trim()));
  // Rounded first: 0.4 is not a packet time of 0 ms.
  return Number.isFinite(number) && number >= 1 && number <= 10_000 ? number : undefined;
}

/** `a=ptime` in ms (RFC 4566 §6), if present and sane. */
export function packetTimeMs(media: MediaDescription): number | undefined {
  return positiveNumberAttribute(media, 'ptime');
}

/** `a=maxptime` in ms (RFC 4566 §6), if present and sane. */
export function maxPacketTimeMs(media: MediaDescription): number | undefined {
  return positiveNumberAttribute(media, 'maxptime');
}

/** `a=rtcp:<port> [IN IP4|IP6 <address>]` (RFC 3605 §2.1), if present and well formed. */
export function rtcpAttribute(media: MediaDescription): { port: number; address?: string } | undefined {
  const value = attributeValue(media.attributes, 'rtcp');
  if (value === undefined) return undefined;
  const fields = value.trim().split(/\s+/);
  if (!/^\d{1,5}$/.test(fields[0]) || Number(fields[0]) > 65535) return undefined;
  const port = Number(fields[0]);
  if (fields.length !== 4) return { port };
  // Only an IP literal of the family named: an RTCP destination is never looked up by name.
  const [netType, addressType, address] = fields.slice(1);
  return ipLiteralFamily(netType, addressType, address) !== 0 ? { port, address } : { port };
}

/**
 * 4 or 6 when `address` is an IP literal of the family `IN IP4` / `IN IP6` names, else 0 (a host
 * name, the other family, another network type): where media goes is never looked up by name.
 */
export function ipLiteralFamily(netType: string, addressType: string, address: string): 0 | 4 | 6 {
  const type = addressType.toUpperCase();
  const family = type === 'IP4' ? 4 : type === 'IP6' ? 6 : 0;
  return netType.toUpperCase() === 'IN' && family !== 0 && isIP(address) === family ? family : 0;
}

/**
 * Event codes of a telephone-event fmtp (RFC 4733 §2.4.1), e.g. "0-15" or "0-11,16".
 * Absent parameters mean 0-15. Unparsable lists give an empty set.
 */
export function telephoneEvents(parameters: string | undefined): Set<number> {
  const events = new Set<number>();
  const list = parameters === undefined || parameters.trim() === '' ? '0-15' : parameters;
  for (const item of list.split(',')) {
    const match = /^\s*(\d{1,3})(?:\s*-\s*(\d{1,3}))?\s*$/.exec(item);
    if (match === null) return new Set();
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (high < low || high > 255) return new Set();
    for (let event = low; event <= high; event++) events.add(event);
  }
  return events;
}

/** Formats an event set as RFC 4733 ranges: {0..16} → "0-16". */
export function formatTelephoneEvents(events: ReadonlySet<number>): string {
  const sorted = [...events].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

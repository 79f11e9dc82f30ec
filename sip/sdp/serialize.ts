/**
 * `SessionDescription` → SDP text, lines in RFC 4566 §5 order, each ended by CRLF.
 */

import type {
  MediaDescription,
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SessionDescription
} from './session-description.js';

export function serializeSdp(desc: SessionDescription): string {
  const lines: string[] = [];
  const o = desc.origin;
  lines.push(`v=${desc.version}`);
  lines.push(`o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addressType} ${o.address}`);
  lines.push(`s=${desc.sessionName}`);
  if (desc.information !== undefined) lines.push(`i=${desc.information}`);
  if (desc.uri !== undefined) lines.push(`u=${desc.uri}`);
  for (const email of desc.emails) lines.push(`e=${email}`);
  for (const phone of desc.phones) lines.push(`p=${phone}`);
  if (desc.connection !== undefined) lines.push(connectionLine(desc.connection));
  pushBandwidths(lines, desc.bandwidths);
  const timings = desc.timings.length > 0 ? desc.timings : [{ startTime: '0', stopTime: '0', repeats: [] }];
  for (const timing of timings) {
    lines.push(`t=${timing.startTime} ${timing.stopTime}`);
    for (const repeat of timing.repeats) lines.push(`r=${repeat}`);
  }
  if (desc.timeZones !== undefined) lines.push(`z=${desc.timeZones}`);
  if (desc.encryptionKey !== undefined) lines.push(`k=${desc.encryptionKey}`);
  pushAttributes(lines, desc.attributes);
  for (const media of desc.media) pushMedia(lines, media);
  return lines.join('\r\n') + '\r\n';
}

function connectionLine(c: SdpConnection): string {
  let address = c.address;
  if (c.ttl !== undefined) address += `/${c.ttl}`;
  if (c.addressCount !== undefined) address += `/${c.addressCount}`;
  return `c=${c.netType} ${c.addressType} ${address}`;
}

function pushBandwidths(lines: string[], bandwidths: readonly SdpBandwidth[]): void {
  for (const b of bandwidths) lines.push(`b=${b.type}:${b.value}`);
}

function pushAttributes(lines: string[], attributes: readonly SdpAttribute[]): void {
  for (const a of attributes) lines.push(a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`);
}

function pushMedia(lines: string[], m: MediaDescription): void {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  lines.push(['m=' + m.media, port, m.protocol, ...m.formats].join(' '));
  if (m.title !== undefined) lines.push(`i=${m.title}`);
  for (const c of m.connections) lines.push(connectionLine(c));
  pushBandwidths(lines, m.bandwidths);
  if (m.encryptionKey !== undefined) lines.push(`k=${m.encryptionKey}`);
  pushAttributes(lines, m.attributes);
}

/**
 * SIP URI equality (RFC 3261 §19.1.4): what a registrar's 2xx is read by, since it may write our
 * Contact back with parameters of its own (§10.2.4 has the UA compare by these rules).
 */
import { unescape, type SipUri } from './uri.js';

/** Parameters that must match when either URI has them; others only when both do. */
const ALWAYS_COMPARED = ['user', 'ttl', 'method', 'maddr', 'transport'];

function sameParam(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
}

export function sameSipUri(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme || a.host.toLowerCase() !== b.host.toLowerCase() || a.port !== b.port)
    return false;
  // User and password are compared case-sensitively, escapes resolved.
  if (unescape(a.user ?? '') !== unescape(b.user ?? '')) return false;
  if (unescape(a.password ?? '') !== unescape(b.password ?? '')) return false;
  for (const name of ALWAYS_COMPARED)
    if (a.params.has(name) !== b.params.has(name) || !sameParam(a.params.get(name), b.params.get(name)))
      return false;
  for (const [name, value] of a.params)
    if (b.params.has(name) && !sameParam(value, b.params.get(name))) return false;
  // Header components must appear in both and match.
  if (a.headers.size !== b.headers.size) return false;
  for (const [name, value] of a.headers) if (b.headers.get(name) !== value) return false;
  return true;
}

/**
 * Which HTTP `Host` a server on a private or loopback address answers, against DNS rebinding: a
 * page from `evil.example` has its name re-resolved to 127.0.0.1 (or a LAN address), and the
 * browser then lets it read our answers and open our WebSocket as its own origin, Origin check
 * and all, since to the browser it is still talking to evil.example. What gives it away is the
 * Host header, which names the attacker's domain. A Host that is an IP literal or `localhost` is
 * no domain an attacker can re-point; any other name must be listed. A request without Host
 * (HTTP/1.0) is refused too: only a browser's request matters here, and every browser sends one.
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * Whether a request whose Host header is `header` may be answered. `allowedHosts` are host names
 * (case-insensitive, no port); one starting `*.` matches any name one label deeper, as a
 * certificate's wildcard does (RFC 6125 §6.4.3).
 */
export function hostAllowed(header: string | undefined, allowedHosts: readonly string[] = []): boolean {
  const host = header === undefined ? undefined : hostOf(header);
  if (host === undefined) return false;
  if (host.startsWith('[')) return isIPv6(host.slice(1, -1));
  if (isIPv4(host)) return true;
  const name = withoutRootDot(host.toLowerCase());
  if (name === 'localhost') return true;
  return allowedHosts.some((entry) => nameMatches(name, withoutRootDot(entry.toLowerCase())));
}

/**
 * RFC 9112 §3.2: a request with more than one Host header gets 400. Node's parser keeps the first
 * in `headers.host`, so a check on it alone would let a second one past every proxy that reads
 * the last.
 */
export function hasOneHostAtMost(rawHeaders: readonly string[]): boolean {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'host') hosts++;
  return hosts <= 1;
}

/** RFC 9110 §7.2: `uri-host [ ":" port ]`; the host, or undefined when the port is not digits. */
function hostOf(header: string): string | undefined {
  let end = header.length;
  const close = header.startsWith('[') ? header.indexOf(']') : -1;
  if (header.startsWith('[') && close < 0) return undefined;
  const colon = header.indexOf(':', close + 1);
  if (colon >= 0) {
    if (!isPort(header.slice(colon + 1))) return undefined;
    end = colon;
  }
  if (close >= 0 && end !== close + 1) return undefined;
  return end === 0 ? undefined : header.slice(0, end);
}

function isPort(text: string): boolean {
  if (text.length === 0 || text.length > 5) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** `pbx.example.com.` is the fully qualified spelling of `pbx.example.com`. */
function withoutRootDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function nameMatches(name: string, entry: string): boolean {
  if (!entry.startsWith('*.')) return name === entry;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot) === entry.slice(1);
}

/**
 * DTMF carried in SIP INFO bodies: `application/dtmf-relay` ("Signal=5\r\nDuration=160",
 * the de-facto Cisco format) and `application/dtmf` (a bare digit, or the same key=value
 * form). Signals 10 and 11 mean '*' and '#' as in RFC 4733 event codes.
 */

export interface DtmfInfo {
  digit: string;
  durationMs: number;
}

export const DTMF_INFO_TYPES = new Set(['application/dtmf-relay', 'application/dtmf']);
const DEFAULT_DURATION_MS = 250;
const VALID_DIGIT = /^[0-9A-D*#]$/;

function normalizeDigit(signal: string): string | undefined {
  const s = signal.trim().toUpperCase();
  if (s === '10') return '*';
  if (s === '11') return '#';
  if (/^1[2-5]$/.test(s)) return String.fromCharCode(65 + Number(s) - 12);
  return VALID_DIGIT.test(s) ? s : undefined;
}

/** Parses an INFO body; undefined when it carries no valid digit. */
export function parseDtmfInfo(contentType: string, body: string): DtmfInfo | undefined {
  if (!DTMF_INFO_TYPES.has(contentType)) return undefined;
  const fields = new Map<string, string>();
  for (const line of body.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  const signal = fields.get('signal') ?? (fields.size === 0 ? body.trim() : undefined);
  if (signal === undefined) return undefined;
  const digit = normalizeDigit(signal);
  if (digit === undefined) return undefined;
  const durationText = fields.get('duration');
  const duration =
    durationText !== undefined && /^\d{1,6}$/.test(durationText) ? Number(durationText) : DEFAULT_DURATION_MS;
  return { digit, durationMs: duration };
}

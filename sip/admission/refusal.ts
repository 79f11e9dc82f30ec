/**
 * Why a request was refused at the door, and the answer it gets. The causes double as the
 * `reason` label of the refusal counter, so they are stable snake_case words.
 */

export const REFUSAL_CAUSES = [
  'source_denied',
  'overload',
  'calls_total',
  'calls_per_source',
  'rate_total',
  'rate_per_source',
  'rtp_ports',
  'dsp_slots',
  'auth_challenged',
  'auth_failed',
  'auth_replayed',
  'auth_locked'
] as const;

export type RefusalCause = (typeof REFUSAL_CAUSES)[number];

export interface Refusal {
  cause: RefusalCause;
  status: number;
  reason: string;
  /** Extra header fields in order (a 401 carries one WWW-Authenticate per algorithm). */
  headers?: Array<[name: string, value: string]>;
}

/** The answer to every new call while the engine takes none (full, overloaded or stopping). */
export type Unavailable = Pick<Refusal, 'status' | 'reason' | 'headers'>;

/** RFC 3261 §21.5.4: 503 with Retry-After (§20.33) tells a client, or a proxy in front, when to try again. */
export function serviceUnavailable(
  cause: RefusalCause,
  retryAfterSeconds: number,
  reason = 'Service Unavailable'
): Refusal {
  return {
    cause,
    status: 503,
    reason,
    headers: [['Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds)))]]
  };
}

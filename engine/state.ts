/**
 * Channel states and call-end causes of the public API, with the names of the original
 * cloud API (`State.TRANSFERRED` stays `State.TRANSFERRED`). There is no HUNG_UP: a call
 * that ends returns the channel to `IDLE` and `cause()` says why.
 */

export enum State {
  WAITING = 'WAITING',
  CALL_INCOMING = 'CALL_INCOMING',
  RING_INCOMING = 'RING_INCOMING',
  ANSWERING = 'ANSWERING',
  ANSWERED = 'ANSWERED',
  CALL_OUTGOING = 'CALL_OUTGOING',
  RING_OUTGOING = 'RING_OUTGOING',
  HOLDING = 'HOLDING',
  ON_HOLD = 'ON_HOLD',
  TRANSFERRING = 'TRANSFERRING',
  TRANSFERRED = 'TRANSFERRED',
  /** A transferred call being retrieved back to its channel. */
  RECONNECTING = 'RECONNECTING',
  ERROR = 'ERROR',
  IDLE = 'IDLE'
}

/** Why the last call on a channel ended (`channel.cause()`). */
export enum Cause {
  TIMEOUT = 'TIMEOUT',
  ERROR = 'ERROR',
  NORMAL = 'NORMAL',
  BUSY = 'BUSY',
  NOANSWER = 'NOANSWER',
  UNOBTAINABLE = 'UNOBTAINABLE',
  CHANGED = 'CHANGED',
  OUTOFORDER = 'OUTOFORDER',
  BARRED = 'BARRED',
  REJECTED = 'REJECTED',
  NOCHANNELS = 'NOCHANNELS',
  CONGESTION = 'CONGESTION',
  FAILED = 'FAILED',
  OTHER = 'OTHER'
}

/** Outcome of the last transfer attempt (`channel.transferCause()`). */
export enum TransferCause {
  NONE = 'NONE',
  NORMAL = 'NORMAL',
  TIMEOUT = 'TIMEOUT',
  HANGUP = 'HANGUP',
  TARGETREJECT = 'TARGETREJECT',
  TARGETHANGUP = 'TARGETHANGUP',
  FAIL = 'FAIL'
}

/**
 * Final SIP response status → `Cause`, for an outbound call that did not connect.
 * Follows the Q.850 ↔ SIP mapping of RFC 3398 §8.2.6.1 (SIP → ISUP cause) read backwards
 * into the API's coarser causes.
 */
const CAUSE_OF_STATUS: ReadonlyMap<number, Cause> = new Map([
  [403, Cause.BARRED], // Q.850 21 call rejected / barred
  [404, Cause.UNOBTAINABLE], // Q.850 1 unallocated number
  [408, Cause.NOANSWER], // Q.850 102 recovery on timer expiry: nobody answered in time
  [410, Cause.CHANGED], // Q.850 22 number changed
  [480, Cause.NOANSWER], // Q.850 18/19 no user responding / no answer
  [484, Cause.UNOBTAINABLE], // Q.850 28 address incomplete
  [485, Cause.UNOBTAINABLE], // ambiguous
  [486, Cause.BUSY], // Q.850 17 user busy
  [487, Cause.NORMAL], // request terminated (we cancelled)
  [488, Cause.FAILED], // not acceptable here (no common media)
  [502, Cause.OUTOFORDER], // Q.850 27 destination out of order
  [503, Cause.CONGESTION], // Q.850 34/41/42 no circuit, congestion
  [504, Cause.TIMEOUT], // server time-out
  [600, Cause.BUSY], // busy everywhere
  [603, Cause.REJECTED], // decline
  [604, Cause.UNOBTAINABLE] // does not exist anywhere
]);

/**
 * The `Cause` for a final SIP status. 2xx is NORMAL; statuses without a specific mapping
 * fall back by class (other 4xx → FAILED, other 5xx → ERROR, other 6xx → REJECTED), and
 * anything that is not a final status (not an integer in 200..699) is OTHER.
 */
export function causeFromSipStatus(status: number): Cause {
  if (!Number.isInteger(status) || status < 200 || status > 699) return Cause.OTHER;
  const mapped = CAUSE_OF_STATUS.get(status);
  if (mapped !== undefined) return mapped;
  if (status < 300) return Cause.NORMAL;
  if (status < 400) return Cause.OTHER; // redirects the UAC did not follow
  if (status < 500) return Cause.FAILED;
  if (status < 600) return Cause.ERROR;
  return Cause.REJECTED;
}

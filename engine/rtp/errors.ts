/**
 * Typed errors of the RTP layer. They carry a stable `code` like the engine's own errors
 * (engine/errors.ts), whose code union is owned elsewhere, so these extend Error directly.
 */

/** Every even/odd port pair of the configured range is in use or could not be bound. */
export class PortPoolExhaustedError extends Error {
  readonly code = 'ERR_PORT_POOL_EXHAUSTED' as const;
  readonly minPort: number;
  readonly maxPort: number;

  constructor(minPort: number, maxPort: number, inUse: number) {
    super(`no free RTP/RTCP port pair in ${minPort}-${maxPort} (${inUse} pairs in use by this pool)`);
    this.name = 'PortPoolExhaustedError';
    this.minPort = minPort;
    this.maxPort = maxPort;
  }
}

/** An RTP object was used after `close()`. */
export class RtpClosedError extends Error {
  readonly code = 'ERR_CLOSED' as const;

  constructor(subject: string) {
    super(`${subject} was closed`);
    this.name = 'RtpClosedError';
  }
}

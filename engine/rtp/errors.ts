/** Typed errors of the RTP layer. */
import { EngineError } from '../errors.js';

/** Every even/odd port pair of the configured range is in use or could not be bound. */
export class PortPoolExhaustedError extends EngineError {
  readonly minPort: number;
  readonly maxPort: number;

  constructor(minPort: number, maxPort: number, inUse: number) {
    super(
      'ERR_PORT_POOL_EXHAUSTED',
      `no free RTP/RTCP port pair in ${minPort}-${maxPort} (${inUse} pairs in use by this pool)`
    );
    this.minPort = minPort;
    this.maxPort = maxPort;
  }
}

/**
 * `npm run cluster`'s RTP ports: the range (UASMEDIA_RTP_MIN_PORT/MAX_PORT, or the engine's
 * default) cut into one slice per engine, each starting on an even port, so engines on one host
 * never try the same pairs (each had the whole range, and a port pool skipped the pairs another
 * engine held only after failing to bind them).
 */
import { InvalidArgumentError } from '../errors.js';

export interface RtpPortRange {
  minPort: number;
  maxPort: number;
}

export function rtpPortSlices(range: RtpPortRange, engines: number): RtpPortRange[] {
  if (!Number.isInteger(engines) || engines < 1) throw new RangeError(`${engines} engines: 1 or more`);
  const firstEven = range.minPort + (range.minPort % 2);
  const pairs = Math.floor((range.maxPort - firstEven + 1) / 2);
  const perEngine = Math.floor(pairs / engines);
  if (perEngine < 1)
    throw new InvalidArgumentError(
      'UASMEDIA_RTP_MIN_PORT',
      `RTP ports ${range.minPort}-${range.maxPort} hold ${pairs} even/odd pairs: too few for ${engines} engines`
    );
  return Array.from({ length: engines }, (_, i) => {
    const minPort = firstEven + 2 * perEngine * i;
    return { minPort, maxPort: minPort + 2 * perEngine - 1 };
  });
}

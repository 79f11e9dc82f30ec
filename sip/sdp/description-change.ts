/**
 * Whether a peer's description is a new one or the one it gave before: RFC 3264 §8 has a changed
 * description carry a new o= version, and one repeated unchanged keep it (as an answer to a
 * session refresh usually does).
 */
import { parseSdp } from './parse.js';

export function describesChange(previous: string | undefined, next: string): boolean {
  if (previous === undefined) return true;
  try {
    const before = parseSdp(previous).origin;
    const after = parseSdp(next).origin;
    return (
      before.sessionId !== after.sessionId ||
      before.sessionVersion !== after.sessionVersion ||
      before.username !== after.username ||
      before.address !== after.address
    );
  } catch {
    // Not both readable: whoever takes the new one says what is wrong with it.
    return previous !== next;
  }
}

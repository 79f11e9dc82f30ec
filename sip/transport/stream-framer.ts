/**
 * Splits a byte stream into SIP messages by Content-Length (RFC 3261 §18.3). CRLFs between
 * messages are skipped (§7.5); each double CRLF among them is a keep-alive ping (RFC 5626
 * §3.5.1), counted for the transport to answer (`takeKeepAlivePings`). A frame too large, a
 * Content-Length that is not a number, or two that differ, is a framing error: the stream cannot
 * be resynchronized and its connection must be closed. The error carries the head of the
 * offending message when one could be read, so the sender can be told why (limits.ts, 400).
 *
 * Work is linear in the bytes received however they are chunked: bytes are appended to one
 * growing buffer (not concatenated anew per chunk) and the search for the blank line resumes
 * where the previous one stopped.
 */
import { SipParseError } from '../errors.js';
import {
  DEFAULT_MESSAGE_LIMITS,
  STATUS_ENTITY_TOO_LARGE,
  STATUS_MESSAGE_TOO_LARGE,
  type SipMessageLimits
} from '../message/limits.js';
import { findHeaderEnd } from '../message/parser.js';

export class StreamFramingError extends Error {
  override name = 'StreamFramingError';
  readonly code = 'ERR_SIP_FRAMING';
  constructor(
    message: string,
    /** The head read so far and the answer it earns, when a limit or conflicting lengths (not garbage) stopped the frame. */
    readonly cutShort?: { head: Buffer; error: SipParseError }
  ) {
    super(message);
  }
}

const INITIAL_CAPACITY = 4096;

export class StreamFramer {
  private store: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  /** Offset (from `start`) up to which no blank line was found. */
  private searched = 0;
  /** Between messages: a CR waits for its LF, and how many CRLFs in a row since the last ping. */
  private gapCr = false;
  private gapCrlfs = 0;
  private pings = 0;
  /** CR and LF bytes skipped between messages since the last `takeGapBytes`. */
  private gapBytes = 0;
  private readonly limits: SipMessageLimits;

  constructor(limits: SipMessageLimits = DEFAULT_MESSAGE_LIMITS) {
    this.limits = limits;
  }

  get buffered(): number {
    return this.end - this.start;
  }

  /** Double CRLFs seen between messages since the last call. */
  takeKeepAlivePings(): number {
    const pings = this.pings;
    this.pings = 0;
    return pings;
  }

  /** CR and LF bytes skipped between messages (pings included) since the last call. */
  takeGapBytes(): number {
    const bytes = this.gapBytes;
    this.gapBytes = 0;
    return bytes;
  }

  /** Adds bytes; returns the complete messages now available. Throws StreamFramingError. */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      if (this.searched === 0) this.skipGap();
      if (this.start === this.end) {
        this.start = this.end = this.searched = 0;
        break;
      }
      const view = this.store.subarray(this.start, this.end);
      const headEnd = findHeaderEnd(view, Math.max(0, this.searched - 3));
      // The same limit whether the blank line came in this chunk or never did.
      if (headEnd ? headEnd.headEnd > this.limits.maxHeaderBytes : view.length > this.limits.maxHeaderBytes) {
        const head = Buffer.from(view.subarray(0, this.limits.maxHeaderBytes));
        const error = new SipParseError(
          `header section longer than ${this.limits.maxHeaderBytes} bytes`,
          STATUS_MESSAGE_TOO_LARGE
        );
        throw new StreamFramingError(error.message, { head, error });
      }
      if (!headEnd) {
        this.searched = view.length;
        break;
      }
      const lengthText = contentLength(view.toString('latin1', 0, headEnd.headEnd));
      if (lengthText === undefined) {
        // §18.3: which length frames the body is in doubt, so where the next message starts is too.
        const head = Buffer.from(view.subarray(0, headEnd.bodyStart));
        const error = new SipParseError('conflicting Content-Length values', 400);
        throw new StreamFramingError(error.message, { head, error });
      }
      if (!isLength(lengthText))
        throw new StreamFramingError(`bad Content-Length "${lengthText.slice(0, 40)}"`);
      const bodyLength = Number(lengthText);
      const total = headEnd.bodyStart + bodyLength;
      if (bodyLength > this.limits.maxBodyBytes || total > this.limits.maxMessageBytes) {
        const head = Buffer.from(view.subarray(0, headEnd.bodyStart));
        const error =
          bodyLength > this.limits.maxBodyBytes
            ? new SipParseError(
                `body of ${bodyLength} bytes exceeds ${this.limits.maxBodyBytes}`,
                STATUS_ENTITY_TOO_LARGE
              )
            : new SipParseError(
                `message of ${total} bytes exceeds ${this.limits.maxMessageBytes}`,
                STATUS_MESSAGE_TOO_LARGE
              );
        throw new StreamFramingError(error.message, { head, error });
      }
      this.searched = headEnd.headEnd;
      if (view.length < total) break;
      out.push(Buffer.from(view.subarray(0, total)));
      this.start += total;
      this.searched = 0;
    }
    return out;
  }

  /** Skips the CRLFs before a message, counting each CRLFCRLF as a ping (it may span chunks). */
  private skipGap(): void {
    while (this.start < this.end) {
      const byte = this.store[this.start];
      if (byte === 0x0d) {
        this.gapCr = true;
      } else if (byte === 0x0a) {
        if (this.gapCr && ++this.gapCrlfs === 2) {
          this.pings++;
          this.gapCrlfs = 0;
        }
        this.gapCr = false;
      } else {
        // A message begins: what preceded it was no ping.
        this.gapCr = false;
        this.gapCrlfs = 0;
        return;
      }
      this.start++;
      this.gapBytes++;
    }
  }

  private append(chunk: Buffer): void {
    if (this.end + chunk.length > this.store.length) {
      const live = this.end - this.start;
      if (live + chunk.length > this.store.length / 2) {
        // Grow to at least twice what is held, so each byte is copied O(1) times overall.
        const grown = Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY, 2 * (live + chunk.length)));
        this.store.copy(grown, 0, this.start, this.end);
        this.store = grown;
      } else {
        this.store.copy(this.store, 0, this.start, this.end);
      }
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.store, this.end);
    this.end += chunk.length;
  }
}

/**
 * The Content-Length (or compact `l`) value of a header section, '0' when absent, undefined when
 * two of them differ (RFC 7230 §3.3.3 allows repeats of one value).
 */
function contentLength(head: string): string | undefined {
  let found: string | undefined;
  let from = 0;
  let colon = -1;
  while (from < head.length) {
    let lf = head.indexOf('\n', from);
    if (lf < 0) lf = head.length;
    // The next colon is looked up only once we pass it, so lines without one cost no rescans.
    if (colon < from) colon = head.indexOf(':', from);
    if (colon < 0) break;
    if (colon > from && colon < lf) {
      let nameEnd = colon;
      while (nameEnd > from && (head[nameEnd - 1] === ' ' || head[nameEnd - 1] === '\t')) nameEnd--;
      const name =
        nameEnd - from === 1 || nameEnd - from === 14 ? head.slice(from, nameEnd).toLowerCase() : '';
      if (name === 'l' || name === 'content-length') {
        const value = head.slice(colon + 1, lf).trim();
        if (found !== undefined && value !== found) return undefined;
        found = value;
      }
    }
    from = lf + 1;
  }
  return found ?? '0';
}

function isLength(text: string): boolean {
  if (text.length < 1 || text.length > 9) return false;
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) < 0x30 || text.charCodeAt(i) > 0x39) return false;
  return true;
}

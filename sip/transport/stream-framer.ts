/**
 * Splits a byte stream into SIP messages by Content-Length (RFC 3261 §18.3). CRLF
 * keep-alives between messages (RFC 5626 §3.5.1) are skipped. A frame too large, or a
 * Content-Length that is not a number, is a framing error: the stream cannot be resynchronized
 * and its connection must be closed.
 */
import { findHeaderEnd } from '../message/parser.js';
import { MAX_STREAM_HEADER_BYTES, MAX_STREAM_MESSAGE_BYTES } from './transport.js';

export class StreamFramingError extends Error {
  override name = 'StreamFramingError';
  readonly code = 'framing';
}

const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)$/im;

export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);

  get buffered(): number {
    return this.buffer.length;
  }

  /** Adds bytes; returns the complete messages now available. Throws StreamFramingError. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      let start = 0;
      while (start < this.buffer.length && (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a)) start++;
      if (start > 0) this.buffer = this.buffer.subarray(start);
      if (this.buffer.length === 0) break;
      const end = findHeaderEnd(this.buffer);
      if (!end) {
        if (this.buffer.length > MAX_STREAM_HEADER_BYTES) throw new StreamFramingError('header section too large');
        break;
      }
      const head = this.buffer.toString('latin1', 0, end.headEnd);
      const match = CONTENT_LENGTH.exec(head);
      const lengthText = match ? match[1].trim() : '0';
      if (!/^\d{1,9}$/.test(lengthText)) throw new StreamFramingError(`bad Content-Length "${lengthText}"`);
      const total = end.bodyStart + Number(lengthText);
      if (total > MAX_STREAM_MESSAGE_BYTES) throw new StreamFramingError(`message of ${total} bytes too large`);
      if (this.buffer.length < total) break;
      out.push(Buffer.from(this.buffer.subarray(0, total)));
      this.buffer = this.buffer.subarray(total);
    }
    return out;
  }
}

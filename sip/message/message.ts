/**
 * SIP request and response objects (RFC 3261 §7): an ordered header list with
 * case-insensitive access, typed accessors for the headers every layer needs, and
 * serialization with a correct Content-Length (§20.14).
 */
import { SipParseError } from '../errors.js';
import { headerKey, headerSpelling } from './header-names.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { splitTopLevel } from './scanner.js';
import type { MessageSource } from '../transport/transport.js';
import { parseVia, parseViaList, type Via } from './via.js';

export interface HeaderField {
  /** As this stack writes it (header-names.ts). */
  readonly name: string;
  /** Its lookup key: lower case, compact form expanded. */
  readonly key: string;
  value: string;
}

/** A header field named as this stack writes it, with its lookup key. */
export function headerField(name: string, value: string): HeaderField {
  const spelling = headerSpelling(name);
  return { name: spelling.name, key: spelling.key, value };
}

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

const EMPTY = Buffer.alloc(0);
const CSEQ = /^(\d{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)$/;

export function parseCSeq(value: string): CSeq {
  const m = CSEQ.exec(value.trim());
  if (!m) throw new SipParseError(`bad CSeq "${value}"`);
  const seq = Number(m[1]);
  // §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned integer and < 2**31.
  if (seq >= 2 ** 31) throw new SipParseError(`CSeq ${m[1]} out of range`);
  return { seq, method: m[2] };
}

export abstract class SipMessage {
  headers: HeaderField[] = [];
  body: Buffer = EMPTY;

  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const h of this.headers) if (h.key === key) return h.value;
    return undefined;
  }

  /** Every header line with this name, in order. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    return this.headers.filter((h) => h.key === key).map((h) => h.value);
  }

  /** Every comma-separated element across all lines with this name (§7.3.1). */
  getList(name: string): string[] {
    return this.getAll(name)
      .flatMap((v) => splitTopLevel(v))
      .filter((v) => v.length > 0);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces all lines of this header with one (appended at the first one's place). */
  set(name: string, value: string): this {
    const key = headerKey(name);
    const index = this.headers.findIndex((h) => h.key === key);
    this.remove(name);
    const field = headerField(name, value);
    if (index >= 0) this.headers.splice(index, 0, field);
    else this.headers.push(field);
    return this;
  }

  add(name: string, value: string): this {
    this.headers.push(headerField(name, value));
    return this;
  }

  prepend(name: string, value: string): this {
    this.headers.unshift(headerField(name, value));
    return this;
  }

  remove(name: string): this {
    const key = headerKey(name);
    this.headers = this.headers.filter((h) => h.key !== key);
    return this;
  }

  get callId(): string {
    return this.get('Call-ID') ?? '';
  }

  get cseq(): CSeq {
    return parseCSeq(this.get('CSeq') ?? '');
  }

  get from(): NameAddr {
    return parseNameAddr(this.get('From') ?? '');
  }

  get to(): NameAddr {
    return parseNameAddr(this.get('To') ?? '');
  }

  get fromTag(): string | undefined {
    return this.from.params.get('tag') ?? undefined;
  }

  get toTag(): string | undefined {
    return this.to.params.get('tag') ?? undefined;
  }

  get vias(): Via[] {
    return parseViaList(this.getAll('Via'));
  }

  get topVia(): Via {
    const first = this.getList('Via')[0];
    if (first === undefined) throw new SipParseError('no Via');
    return parseVia(first);
  }

  get bodyText(): string {
    return this.body.toString('utf8');
  }

  /** Media type without parameters, lower case ('' when absent). */
  get contentType(): string {
    return (this.get('Content-Type') ?? '').split(';')[0].trim().toLowerCase();
  }

  protected abstract startLine(): string;

  toBuffer(): Buffer {
    let head = `${this.startLine()}\r\n`;
    for (const h of this.headers) {
      if (h.key === 'content-length') continue;
      head += `${h.name}: ${h.value}\r\n`;
    }
    head += `Content-Length: ${this.body.length}\r\n\r\n`;
    return this.body.length > 0
      ? Buffer.concat([Buffer.from(head, 'utf8'), this.body])
      : Buffer.from(head, 'utf8');
  }

  toString(): string {
    return this.toBuffer().toString('utf8');
  }
}

export class SipRequest extends SipMessage {
  /**
   * Its Request-URI is a strict router (RFC 3261 §12.2.1.1): it goes there, not to its first
   * Route (§8.1.2).
   */
  strictRouted = false;

  constructor(
    public method: string,
    public uri: string,
    public version = 'SIP/2.0'
  ) {
    super();
  }

  protected startLine(): string {
    return `${this.method} ${this.uri} ${this.version}`;
  }
}

export class SipResponse extends SipMessage {
  /** Where a response we received came from; undefined for one we made (a 408 on timeout, say). */
  receivedFrom: MessageSource | undefined;

  constructor(
    public status: number,
    public reason: string,
    public version = 'SIP/2.0'
  ) {
    super();
  }

  protected startLine(): string {
    return `${this.version} ${this.status} ${this.reason}`;
  }
}

export type AnySipMessage = SipRequest | SipResponse;

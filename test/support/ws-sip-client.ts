/**
 * A SIP-over-WebSocket client for tests, the way a browser's sip.js behaves (RFC 7118): it
 * offers the `sip` subprotocol, writes `SIP/2.0/WSS <random>.invalid` in its Via and a
 * `*.invalid;transport=ws` Contact, and collects every message the server sends it.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { parseMessage } from '../../sip/message/parser.js';
import type { SipRequest, SipResponse } from '../../sip/message/message.js';
import { waitFor } from './wait.js';

export class WsSipClient {
  readonly invalidHost = `${randomBytes(4).toString('hex')}.invalid`;
  readonly received: Array<SipRequest | SipResponse> = [];
  closeCode: number | undefined;
  private cseq = 1;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const parsed = parseMessage(Buffer.from(data), { datagram: true });
      if (parsed.kind === 'invalid') return;
      this.received.push(parsed.message);
      // Like sip.js: a BYE is answered 200 at once.
      if (parsed.kind === 'request' && parsed.message.method === 'BYE') this.send(this.okTo(parsed.message));
    });
    socket.on('close', (code) => (this.closeCode = code));
  }

  static connect(
    url: string,
    protocols: string[] = ['sip'],
    options: WebSocket.ClientOptions = {}
  ): Promise<WsSipClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, protocols, options);
      socket.once('open', () => resolve(new WsSipClient(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`handshake refused: ${response.statusCode}`))
      );
    });
  }

  /** Connects to `engine`'s WebSocket port on `host` (path /sip), as a browser's SIP stack does. */
  static toEngine(
    engine: { sipAddresses(): ReadonlyArray<{ protocol: string; port: number }> },
    host: string
  ): Promise<WsSipClient> {
    const port = engine.sipAddresses().find((a) => a.protocol === 'ws')!.port;
    return WsSipClient.connect(`ws://${host}:${port}/sip`);
  }

  /** A request as sip.js would write it; `extra` adds headers, `body` an SDP. */
  request(
    method: string,
    uri: string,
    opts: {
      callId?: string;
      fromTag?: string;
      toTag?: string;
      cseq?: number;
      body?: string;
      extra?: string[];
    } = {}
  ): string {
    const body = opts.body ?? '';
    const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/WSS ${this.invalidHost};branch=${branch}`,
      'Max-Forwards: 70',
      `From: "web" <sip:web@example.invalid>;tag=${opts.fromTag ?? 'webtag'}`,
      `To: <${uri}>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
      `Call-ID: ${opts.callId ?? randomBytes(8).toString('hex')}`,
      `CSeq: ${opts.cseq ?? this.cseq++} ${method}`,
      `Contact: <sip:web@${this.invalidHost};transport=ws>`,
      ...(opts.extra ?? []),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body
    ].join('\r\n');
  }

  /**
   * A 200 OK to `request`, echoing its Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2); to
   * answer an INVITE, `toTag`, our Contact and an SDP `body`.
   */
  okTo(request: SipRequest, answer?: { toTag: string; body: string }): string {
    const body = answer?.body ?? '';
    return [
      'SIP/2.0 200 OK',
      ...request.getAll('Via').map((v) => `Via: ${v}`),
      `From: ${request.get('From')}`,
      `To: ${request.get('To')}${answer ? `;tag=${answer.toTag}` : ''}`,
      `Call-ID: ${request.callId}`,
      `CSeq: ${request.get('CSeq')}`,
      ...(answer
        ? [`Contact: <sip:web@${this.invalidHost};transport=ws>`, 'Content-Type: application/sdp']
        : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body
    ].join('\r\n');
  }

  send(text: string | Buffer): void {
    this.socket.send(text);
  }

  /** Waits for a message matching `match` that arrived after index `from`. */
  async waitFor<T extends SipRequest | SipResponse>(
    match: (m: SipRequest | SipResponse) => m is T,
    ms = 10_000,
    from = 0
  ): Promise<T> {
    let found: T | undefined;
    await waitFor(() => (found = this.received.slice(from).find(match)) !== undefined, ms);
    return found as T;
  }

  async response(callId: string, status: number, ms = 10_000): Promise<SipResponse> {
    return this.waitFor(
      (m): m is SipResponse => 'status' in m && m.callId === callId && m.status === status,
      ms
    );
  }

  /** Sends an INVITE of `offer` to `uri` and resolves with its final response (200-699). */
  async invite(uri: string, callId: string, offer: string, ms = 20_000): Promise<SipResponse> {
    this.send(this.request('INVITE', uri, { callId, body: offer }));
    return this.waitFor((m): m is SipResponse => 'status' in m && m.callId === callId && m.status >= 200, ms);
  }

  /** ACKs the call `ok` answered (an INVITE to `uri`), hangs it up, and waits for the BYE's own answer. */
  async hangUp(uri: string, ok: SipResponse): Promise<void> {
    const toTag = /;tag=([^;]+)/.exec(ok.get('To') ?? '')![1];
    const cseq = ok.cseq.seq;
    this.send(this.request('ACK', uri, { callId: ok.callId, toTag, cseq }));
    this.send(this.request('BYE', uri, { callId: ok.callId, toTag, cseq: cseq + 1 }));
    await this.waitFor(
      (m): m is SipResponse => 'status' in m && m.callId === ok.callId && m.cseq.method === 'BYE'
    );
  }

  async requestFor(callId: string, method: string, ms = 10_000): Promise<SipRequest> {
    return this.waitFor(
      (m): m is SipRequest => 'method' in m && m.callId === callId && m.method === method,
      ms
    );
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

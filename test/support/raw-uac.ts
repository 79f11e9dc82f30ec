/**
 * A caller written out by hand on a real UDP socket, for tests that need a peer to do exactly
 * what it is told: send an INVITE with chosen headers (its Via and Contact naming the address it
 * is bound to, as a phone not behind NAT does), ACK the 200, and then answer (or ignore)
 * the engine's in-dialog requests (BYE, re-INVITE refreshes).
 */
import { SipRequest, SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import { UdpTestPeer, sipText } from './sip-udp-peer.js';

let nextCall = 1;

export class RawUac extends UdpTestPeer {
  readonly callId = `rawuac-${process.pid}-${nextCall++}@127.0.0.1`;
  private readonly fromTag = `f${nextCall}`;
  /** Whether to answer the engine's re-INVITEs (session refreshes) with 200. */
  answerReinvites = true;
  /** The INVITE's body around its SDP offer: application/sdp by default; a trunk's multipart, say. */
  offerBody = (sdp: string): { contentType: string; body: string } => ({
    contentType: 'application/sdp',
    body: sdp
  });
  /** The offer's audio formats (m= line), their a= lines and its c= address: PCMU on 127.0.0.1 by default. */
  offerMedia = { formats: '0', attributes: ['a=rtpmap:0 PCMU/8000'], host: '127.0.0.1' };
  /** The address the engine's SIP is bound to. */
  engineHost = '127.0.0.1';
  /** In-dialog requests the engine sent us, by method. */
  readonly requests: SipRequest[] = [];
  private enginePort = 0;
  private toHeader = '';
  private rtpPort = 0;

  protected override deliver(data: Buffer): void {
    super.deliver(data);
    const message = this.received[this.received.length - 1];
    if (message instanceof SipRequest && message.callId === this.callId) this.onRequest(message);
  }

  /** Sends the INVITE (SDP offering PCMU on `rtpPort`, in `offerBody`), waits for the final response and ACKs a 2xx (unless `ack` is false). */
  async invite(enginePort: number, headers: string[], rtpPort = 40_000, ack = true): Promise<SipResponse> {
    this.enginePort = enginePort;
    this.rtpPort = rtpPort;
    const target = `sip:room@127.0.0.1:${enginePort}`;
    const offer = this.offerBody(this.sdp());
    await this.send(
      sipText(
        [
          `INVITE ${target} SIP/2.0`,
          `Via: SIP/2.0/UDP ${this.host}:${this.port};branch=z9hG4bK${this.callId.replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}`,
          'Max-Forwards: 70',
          `From: <sip:raw@127.0.0.1>;tag=${this.fromTag}`,
          `To: <${target}>`,
          `Call-ID: ${this.callId}`,
          'CSeq: 1 INVITE',
          `Contact: <sip:raw@${this.host}:${this.port}>`,
          `Content-Type: ${offer.contentType}`,
          ...headers
        ],
        offer.body
      ),
      enginePort,
      this.engineHost
    );
    const final = (await this.next(
      (m) => m instanceof SipResponse && m.callId === this.callId && m.status >= 200,
      15_000
    )) as SipResponse;
    if (final.status < 300 && ack) await this.acknowledge(final);
    return final;
  }

  /** ACKs the 2xx `final` (later than `invite` would, when it was told not to). */
  async acknowledge(final: SipResponse): Promise<void> {
    this.toHeader = final.get('To') ?? '';
    await this.send(this.inDialog('ACK', 1, final), this.enginePort, this.engineHost);
  }

  /** Hangs up the dialog the 2xx `final` made (ACKed or not); resolves with the BYE's final response. */
  async bye(final: SipResponse): Promise<SipResponse> {
    await this.send(this.inDialog('BYE', 2, final), this.enginePort, this.engineHost);
    return (await this.next(
      (m) => m instanceof SipResponse && m.callId === this.callId && m.cseq.method === 'BYE',
      5000
    )) as SipResponse;
  }

  /**
   * Sends a DTMF SIP INFO (application/dtmf-relay) with CSeq `seq` in the dialog the 2xx `final`
   * made; without waiting for its answer, as a resent copy is the same text sent again.
   */
  async info(final: SipResponse, seq: number, digit: string, durationMs = 100): Promise<void> {
    const text = this.inDialog('INFO', seq, final, `Signal=${digit}\r\nDuration=${durationMs}\r\n`);
    await this.send(text, this.enginePort, this.engineHost);
  }

  /** The next request the engine sends in this dialog with `method`. */
  nextRequest(method: string, timeoutMs: number): Promise<AnySipMessage> {
    return this.next(
      (m) => m instanceof SipRequest && m.callId === this.callId && m.method === method,
      timeoutMs
    );
  }

  private sdp(): string {
    return [
      'v=0',
      `o=- 1 1 IN IP4 ${this.offerMedia.host}`,
      's=-',
      `c=IN IP4 ${this.offerMedia.host}`,
      't=0 0',
      `m=audio ${this.rtpPort} RTP/AVP ${this.offerMedia.formats}`,
      ...this.offerMedia.attributes,
      ''
    ].join('\r\n');
  }

  /** A request in the dialog the 2xx `final` made, each with a branch of its own. */
  private inDialog(method: 'ACK' | 'BYE' | 'INFO', seq: number, final: SipResponse, dtmfRelay = ''): string {
    return sipText(
      [
        `${method} sip:room@127.0.0.1:${this.enginePort} SIP/2.0`,
        `Via: SIP/2.0/UDP ${this.host}:${this.port};branch=z9hG4bK${method.toLowerCase()}${Date.now()}${Math.random().toString(36).slice(2, 8)}`,
        'Max-Forwards: 70',
        `From: <sip:raw@127.0.0.1>;tag=${this.fromTag}`,
        `To: ${final.get('To')}`,
        `Call-ID: ${this.callId}`,
        `CSeq: ${seq} ${method}`,
        ...(dtmfRelay === '' ? [] : ['Content-Type: application/dtmf-relay'])
      ],
      dtmfRelay
    );
  }

  private onRequest(request: SipRequest): void {
    this.requests.push(request);
    if (request.method === 'BYE')
      void this.send(this.response(request, 200, 'OK'), this.enginePort, this.engineHost);
    if (request.method === 'INVITE' && this.answerReinvites)
      void this.send(this.response(request, 200, 'OK', this.sdp()), this.enginePort, this.engineHost);
  }

  private response(request: SipRequest, status: number, reason: string, body = ''): string {
    const lines = [`SIP/2.0 ${status} ${reason}`];
    for (const via of request.getAll('Via')) lines.push(`Via: ${via}`);
    lines.push(
      `From: ${request.get('From')}`,
      `To: ${request.get('To')}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${request.get('CSeq')}`
    );
    lines.push(`Contact: <sip:raw@${this.host}:${this.port}>`);
    for (const name of ['Session-Expires']) {
      const value = request.get(name);
      if (value !== undefined && status < 300) lines.push(`${name}: ${value}`);
    }
    if (body) lines.push('Content-Type: application/sdp');
    return sipText(lines, body);
  }

  /** The To header of our dialog (with the engine's tag). */
  get dialogTo(): string {
    return this.toHeader;
  }
}

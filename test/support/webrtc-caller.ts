/**
 * A browser stand-in made in Node: its own `RTCPeerConnection` (@roamhq/wrtc in the test
 * process) sending a sine tone through an `RTCAudioSource`, keeping what its `RTCAudioSink`
 * receives, and SIP over a WebSocket the way sip.js speaks it (`*.invalid` Via and Contact,
 * no trickle: the offer carries its candidates). Keypad digits go as SIP INFO.
 */
import { performance } from 'node:perf_hooks';
import wrtc from '@roamhq/wrtc';
import type { SipResponse } from '../../sip/message/message.js';
import { WsSipClient } from './ws-sip-client.js';

const SEND_RATE_HZ = 48000;
const SEND_FRAME = 480;

export interface WebRtcCallerOptions {
  toneHz: number | null;
  amplitude?: number;
  user?: string;
  /** The Origin its WebSocket handshake names, as a page of that origin's would. */
  origin?: string;
  /** The certificate a `wss:` server's must chain to (a test's self-signed one). */
  ca?: Buffer;
}

export class WebRtcCaller {
  readonly pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  private readonly source = new wrtc.nonstandard.RTCAudioSource();
  private readonly track = this.source.createTrack();
  private sink: InstanceType<typeof wrtc.nonstandard.RTCAudioSink> | undefined;
  private readonly frames: Int16Array[] = [];
  private receivedRateHz = 0;
  private timer: NodeJS.Timeout | undefined;
  private sentFrames = 0;
  private startedMs = 0;
  private phase = 0;
  private readonly samples = new Int16Array(SEND_FRAME);
  private sip: WsSipClient | undefined;
  private callId = '';
  private ok: SipResponse | undefined;
  /** The dialog's remote target (the 200's Contact) and route set (its Record-Route, reversed): through a proxy, in-dialog requests go there. */
  private remoteTarget: string | undefined;
  private routes: string[] = [];
  private cseq = 1;
  toneHz: number | null;
  closed = false;

  constructor(private readonly options: WebRtcCallerOptions) {
    this.toneHz = options.toneHz;
    this.pc.addTrack(this.track);
    this.pc.addEventListener('track', (event: Event) => {
      const track = (event as unknown as { track: MediaStreamTrack }).track;
      const sink = new wrtc.nonstandard.RTCAudioSink(track);
      sink.ondata = (data: { samples: Int16Array; sampleRate: number; channelCount?: number }) => {
        if (data.sampleRate !== this.receivedRateHz) {
          this.receivedRateHz = data.sampleRate;
          this.frames.length = 0;
        }
        const channels = data.channelCount ?? 1;
        const mono = new Int16Array(data.samples.length / channels);
        for (let i = 0; i < mono.length; i++) mono[i] = data.samples[i * channels];
        this.frames.push(mono);
      };
      this.sink = sink;
    });
  }

  get sipClient(): WsSipClient {
    if (!this.sip) throw new Error('not connected');
    return this.sip;
  }

  get toTag(): string | undefined {
    return this.ok?.toTag;
  }

  /** Offers over a new WebSocket; resolves with the final response (the ACK is sent for a 200). */
  async call(wsUrl: string, targetUri: string, offerSdp?: (sdp: string) => string): Promise<SipResponse> {
    this.sip = await WsSipClient.connect(wsUrl, ['sip'], {
      origin: this.options.origin,
      ca: this.options.ca
    });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    const sdp = offerSdp ? offerSdp(this.pc.localDescription!.sdp) : this.pc.localDescription!.sdp;
    this.callId = `web-${Math.random().toString(36).slice(2)}`;
    const from = this.options.user ?? 'web';
    this.sip.send(
      this.sip
        .request('INVITE', targetUri, { callId: this.callId, fromTag: from, body: sdp, cseq: this.cseq++ })
        .replace('sip:web@example.invalid', `sip:${from}@example.invalid`)
    );
    const final = await this.sip.waitFor(
      (m): m is SipResponse => 'status' in m && m.callId === this.callId && m.status >= 200,
      20_000
    );
    if (final.status !== 200) {
      this.sip.send(
        this.sip.request('ACK', targetUri, {
          callId: this.callId,
          fromTag: from,
          toTag: final.toTag,
          cseq: 1
        })
      );
      return final;
    }
    this.ok = final;
    this.remoteTarget = /<([^>]+)>/.exec(final.get('Contact') ?? '')?.[1];
    this.routes = final.getAll('Record-Route').reverse();
    this.sip.send(this.inDialog('ACK', targetUri, { cseq: 1 }));
    await this.pc.setRemoteDescription({ type: 'answer', sdp: final.bodyText });
    this.startTone();
    return final;
  }

  private gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.pc.iceGatheringState !== 'complete') return;
        this.pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      this.pc.addEventListener('icegatheringstatechange', check);
    });
  }

  /** 10 ms frames paced by elapsed time, so a late timer catches up instead of drifting. */
  private startTone(): void {
    this.startedMs = performance.now();
    this.timer = setInterval(() => {
      const due = Math.floor((performance.now() - this.startedMs) / 10);
      for (let n = 0; n < 10 && this.sentFrames < due; n++) this.sendFrame();
      if (this.sentFrames < due) this.sentFrames = due;
    }, 10);
  }

  private sendFrame(): void {
    const amplitude = this.options.amplitude ?? 6000;
    const step = this.toneHz === null ? 0 : (2 * Math.PI * this.toneHz) / SEND_RATE_HZ;
    for (let i = 0; i < SEND_FRAME; i++) {
      this.samples[i] = this.toneHz === null ? 0 : Math.round(amplitude * Math.sin(this.phase));
      this.phase += step;
    }
    this.phase %= 2 * Math.PI;
    this.source.onData({
      samples: this.samples,
      sampleRate: SEND_RATE_HZ,
      bitsPerSample: 16,
      channelCount: 1,
      numberOfFrames: SEND_FRAME
    });
    this.sentFrames++;
  }

  /** What arrived since the last clear, at `rateHz` (the sink's current rate). */
  received(): { pcm: Int16Array; rateHz: number } {
    const total = this.frames.reduce((n, f) => n + f.length, 0);
    const pcm = new Int16Array(total);
    let at = 0;
    for (const f of this.frames) {
      pcm.set(f, at);
      at += f.length;
    }
    return { pcm, rateHz: this.receivedRateHz };
  }

  clearReceived(): void {
    this.frames.length = 0;
  }

  /**
   * A request in the call, the way sip.js sends one: to the remote target, along the route set.
   * The To header names `targetUri`, as the INVITE's did.
   */
  private inDialog(
    method: string,
    targetUri: string,
    opts: { cseq: number; body?: string; extra?: string[] }
  ): string {
    const sip = this.sipClient;
    const text = sip.request(method, this.remoteTarget ?? targetUri, {
      callId: this.callId,
      fromTag: this.options.user ?? 'web',
      toTag: this.toTag,
      cseq: opts.cseq,
      body: opts.body,
      extra: [...this.routes.map((route) => `Route: ${route}`), ...(opts.extra ?? [])]
    });
    return this.remoteTarget === undefined
      ? text
      : text.replace(`To: <${this.remoteTarget}>`, `To: <${targetUri}>`);
  }

  /** Hangs up with BYE; resolves with its final status. */
  async bye(targetUri: string): Promise<number> {
    const sip = this.sipClient;
    const cseq = this.cseq++;
    sip.send(this.inDialog('BYE', targetUri, { cseq }));
    const response = await sip.waitFor(
      (m): m is SipResponse =>
        'status' in m && m.callId === this.callId && m.cseq.seq === cseq && m.status >= 200
    );
    return response.status;
  }

  /** A keypad press as SIP INFO (application/dtmf-relay); resolves with the status. */
  async infoDigit(digit: string, targetUri: string): Promise<number> {
    const sip = this.sipClient;
    const cseq = this.cseq++;
    sip.send(
      this.inDialog('INFO', targetUri, {
        cseq,
        body: `Signal=${digit}\r\nDuration=160\r\n`,
        extra: ['Content-Type: application/dtmf-relay']
      }).replace('Content-Type: application/sdp\r\n', '')
    );
    const response = await sip.waitFor(
      (m): m is SipResponse =>
        'status' in m && m.callId === this.callId && m.cseq.seq === cseq && m.status >= 200
    );
    return response.status;
  }

  /**
   * A re-INVITE as a browser refreshing its session (RFC 4028) sends it: with its current offer,
   * or with none (`withOffer: false`), when the 200 carries the offer and the ACK the answer (the
   * browser's description, which keeps its transport); `edit` changes the offer sent. Resolves
   * with the final response.
   */
  async reinvite(targetUri: string, withOffer = true, edit = (sdp: string) => sdp): Promise<SipResponse> {
    const sip = this.sipClient;
    const cseq = this.cseq++;
    const local = this.pc.localDescription!.sdp;
    sip.send(this.inDialog('INVITE', targetUri, { cseq, body: withOffer ? edit(local) : undefined }));
    const final = await sip.waitFor(
      (m): m is SipResponse =>
        'status' in m && m.callId === this.callId && m.cseq.seq === cseq && m.status >= 200
    );
    const answer = !withOffer && final.status === 200 ? local : undefined;
    sip.send(this.inDialog('ACK', targetUri, { cseq, body: answer }));
    return final;
  }

  /**
   * An ICE restart as a browser makes one after a network change: a re-INVITE with a new offer
   * from its peer connection (new ICE credentials), whose answer the connection then takes.
   * Resolves with the final response.
   */
  async restartIce(targetUri: string): Promise<SipResponse> {
    const sip = this.sipClient;
    const cseq = this.cseq++;
    await this.pc.setLocalDescription(await this.pc.createOffer({ iceRestart: true }));
    await this.gathered();
    sip.send(this.inDialog('INVITE', targetUri, { cseq, body: this.pc.localDescription!.sdp }));
    const final = await sip.waitFor(
      (m): m is SipResponse =>
        'status' in m && m.callId === this.callId && m.cseq.seq === cseq && m.status >= 200,
      20_000
    );
    sip.send(this.inDialog('ACK', targetUri, { cseq }));
    if (final.status === 200) await this.pc.setRemoteDescription({ type: 'answer', sdp: final.bodyText });
    else await this.pc.setLocalDescription({ type: 'rollback' });
    return final;
  }

  get id(): string {
    return this.callId;
  }

  /** Stops audio, closes the peer connection and the WebSocket (no BYE: like closing the tab). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.sink?.stop();
    this.track.stop();
    this.pc.close();
    await this.sip?.close();
  }
}

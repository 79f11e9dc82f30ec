/**
 * A test phone: a SIP UAC (the project's own SIP stack, separate from the engine under test)
 * with a plain UDP RTP socket that streams a PCMU sine tone and keeps everything it receives,
 * decoded, for analysis. It speaks RTP itself, independently of the engine's RTP code.
 *
 * What it sends does not depend on how fast the host is. Its media clock is drift-free: each
 * timer turn sends every frame due since the call started, so a stall of the event loop (a busy
 * machine, the engine in the same process) turns into a burst of packets with the right
 * timestamps, as a real phone's network hiccup does, never into a slower stream. Key presses
 * last a number of frames, not a wall-clock time, and their Promises resolve when the last of
 * those frames has been sent.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { SipUserAgent, type OutgoingInvite } from '../../sip/user-agent.js';
import type { TlsTransportOptions } from '../../sip/transport/tls.js';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from './tone-analysis.js';

const SAMPLE_RATE_HZ = 8000;
/** The dynamic payload type it offers L16/16000 on (`reinvite({ codec: 'L16' })`). */
const L16_PT = 96;
/** ITU-T Q.23 low and high frequencies of each key. */
const DTMF_PAIRS: Record<string, [number, number]> = {
  '1': [697, 1209],
  '2': [697, 1336],
  '3': [697, 1477],
  A: [697, 1633],
  '4': [770, 1209],
  '5': [770, 1336],
  '6': [770, 1477],
  B: [770, 1633],
  '7': [852, 1209],
  '8': [852, 1336],
  '9': [852, 1477],
  C: [852, 1633],
  '*': [941, 1209],
  '0': [941, 1336],
  '#': [941, 1477],
  D: [941, 1633]
};

export interface TonePhoneOptions {
  /** Tone to send; null sends silence. */
  toneHz: number | null;
  /** Peak amplitude of the tone (default 6000, about -15 dBFS). */
  amplitude?: number;
  displayName?: string;
  user?: string;
  /** The phone's own RFC 4028 session timer settings (its SIP stack's defaults otherwise). */
  sessionTimer?: { expiresSeconds?: number; minSeSeconds?: number } | false;
  /** Loopback address to send SIP and RTP from (default 127.0.0.1). */
  host?: string;
  /** The address its SDP names (default `host`): a phone behind NAT names its private one. */
  sdpAddress?: string;
  /** Credentials for a 401/407 challenge. */
  auth?: { username: string; password: string };
  /** The phone's one SIP transport (default UDP); a TCP phone calls `…;transport=tcp` targets. */
  transport?: 'udp' | 'tcp' | 'tls';
  /** A TLS phone's own certificate and key, and the CA it trusts for the far end's. */
  tls?: TlsTransportOptions;
  /** Milliseconds of audio in each packet it sends, and its a=ptime (default 20): trunks send 30 or 40. */
  ptimeMs?: number;
}

export class TonePhone {
  private readonly ua: SipUserAgent;
  private rtp: dgram.Socket;
  private session: OutgoingInvite | undefined;
  private remote: { address: string; port: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 1;
  private timestamp = 0;
  private phase = 0;
  /** The payload type it offers and sends: 0 PCMU, 8 PCMA, 96 L16/16000 (`reinvite({ codec })`). */
  private payloadType = 0;
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private readonly received: Int16Array[] = [];
  /** performance.now() of each received audio packet, since the last clearReceived(). */
  private readonly arrivalsMs: number[] = [];
  /** The header and size of each received audio packet, since the last clearReceived(). */
  readonly receivedPackets: { sequence: number; timestamp: number; marker: boolean; payloadBytes: number }[] =
    [];
  private readonly packet: Buffer;
  /** Milliseconds in each packet it sends. */
  private readonly frameMs: number;
  /** While set, the stream carries this DTMF pair (in-band) instead of the tone, for `frames` more frames. */
  private press: { pair: [number, number]; frames: number; done: () => void } | undefined;
  /** While set, the stream carries RFC 4733 events for this digit instead of audio. */
  private event:
    | {
        code: number;
        startTs: number;
        samples: number;
        frames: number;
        end: boolean;
        endSent: number;
        done: () => void;
      }
    | undefined;
  /** RFC 4733 events sent by `rfc4733Flood`, for timestamps of their own. */
  private floodEvents = 0;
  /** Media clock: when the stream started and how many frames it has produced since. */
  private streamStartMs = 0;
  private framesProduced = 0;
  /** Packets held back until the media clock reaches `untilFrame` (a simulated network stall). */
  private stall: { untilFrame: number; held: Buffer[] } | undefined;
  private stallAt: { frame: number; frames: number } | undefined;
  toneHz: number | null;
  amplitude: number;
  /** The payload type this phone offers and sends RFC 4733 telephone-events on; null: it offers none. */
  telephoneEventPt: number | null = 101;
  ended = false;
  /** The engine's SDP answer to `call()`. */
  answerSdp: string | undefined;

  private constructor(
    ua: SipUserAgent,
    rtp: dgram.Socket,
    private readonly options: TonePhoneOptions
  ) {
    this.ua = ua;
    this.rtp = rtp;
    this.toneHz = options.toneHz;
    this.amplitude = options.amplitude ?? 6000;
    this.frameMs = options.ptimeMs ?? 20;
    this.packet = Buffer.alloc(12 + (2 * 16000 * this.frameMs) / 1000);
    rtp.on('message', this.onRtp);
  }

  private readonly onRtp = (msg: Buffer): void => {
    const pt = msg[1] & 0x7f;
    if (msg.length < 12 + 1 || (msg[0] & 0xc0) !== 0x80 || (pt !== 0 && pt !== 8)) return;
    const payload = msg.subarray(12 + (msg[0] & 0x0f) * 4);
    const pcm = new Int16Array(payload.length);
    const decode = pt === 8 ? alawDecode : ulawDecode;
    for (let i = 0; i < payload.length; i++) pcm[i] = decode(payload[i]);
    this.received.push(pcm);
    this.arrivalsMs.push(performance.now());
    this.receivedPackets.push({
      sequence: msg.readUInt16BE(2),
      timestamp: msg.readUInt32BE(4),
      marker: (msg[1] & 0x80) !== 0,
      payloadBytes: payload.length
    });
  };

  static async create(options: TonePhoneOptions): Promise<TonePhone> {
    const host = options.host ?? '127.0.0.1';
    const ua = new SipUserAgent({
      transports: [{ protocol: options.transport ?? 'udp', host, port: 0, tls: options.tls }],
      sessionTimer: options.sessionTimer
    });
    await ua.start();
    const rtp = dgram.createSocket('udp4');
    rtp.bind(0, host);
    await once(rtp, 'listening');
    return new TonePhone(ua, rtp, options);
  }

  /** The clock rate of what it sends: 16 kHz in L16, 8 kHz in G.711. */
  private get rateHz(): number {
    return this.payloadType === L16_PT ? 16000 : SAMPLE_RATE_HZ;
  }

  /** Samples in each packet it sends. */
  private get frameSamples(): number {
    return (this.rateHz * this.frameMs) / 1000;
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  /** The engine's RTP address and port for this call, from its answer. */
  get remoteRtp(): { address: string; port: number } | undefined {
    return this.remote;
  }

  private sdpVersion = 1;

  private offer(
    direction: 'sendrecv' | 'sendonly' | 'inactive' = 'sendrecv',
    payloadType = this.payloadType
  ): string {
    const address = this.options.sdpAddress ?? this.options.host ?? '127.0.0.1';
    const rtpmap = `a=rtpmap:${payloadType} ${payloadType === 8 ? 'PCMA' : payloadType === L16_PT ? 'L16/16000' : 'PCMU/8000'}`;
    return [
      'v=0',
      `o=tonephone 1 ${this.sdpVersion++} IN IP4 ${address}`,
      's=-',
      `c=IN IP4 ${address}`,
      't=0 0',
      ...(this.telephoneEventPt === null
        ? [`m=audio ${this.rtpPort} RTP/AVP ${payloadType}`, rtpmap]
        : [
            `m=audio ${this.rtpPort} RTP/AVP ${payloadType} ${this.telephoneEventPt}`,
            rtpmap,
            `a=rtpmap:${this.telephoneEventPt} telephone-event/${payloadType === L16_PT ? 16000 : 8000}`,
            `a=fmtp:${this.telephoneEventPt} 0-16`
          ]),
      `a=ptime:${this.frameMs}`,
      `a=${direction}`,
      ''
    ].join('\r\n');
  }

  /**
   * Re-INVITEs mid-call (RFC 3261 §14): optionally from a new RTP port (a phone that moved), or
   * with another direction (sendonly puts the far end on hold, RFC 3264 §8.4), or offering only
   * another codec (sent from the answer on): a G.711 one, or L16 at 16 kHz.
   */
  async reinvite(
    options: {
      newPort?: boolean;
      direction?: 'sendrecv' | 'sendonly' | 'inactive';
      codec?: 'PCMU' | 'PCMA' | 'L16';
    } = {}
  ): Promise<void> {
    if (!this.session) throw new Error('not in a call');
    if (options.newPort) {
      const next = dgram.createSocket('udp4');
      next.bind(0, this.options.host ?? '127.0.0.1');
      await once(next, 'listening');
      next.on('message', this.onRtp);
      this.rtp.close();
      this.rtp = next;
    }
    const payloadType =
      options.codec === undefined ? this.payloadType : { PCMU: 0, PCMA: 8, L16: L16_PT }[options.codec];
    const answer = await this.session.reinvite(this.offer(options.direction, payloadType));
    this.payloadType = payloadType;
    this.remote = {
      address: /c=IN IP4 (\S+)/.exec(answer)?.[1] ?? '127.0.0.1',
      port: Number(/m=audio (\d+)/.exec(answer)?.[1])
    };
  }

  /** The user part of the phone's From URI. */
  get user(): string {
    return this.options.user ?? 'tonephone';
  }

  /** Calls `target` and resolves once answered; audio starts flowing at once. */
  async call(target: string): Promise<void> {
    const sdp = this.offer();
    const user = this.user;
    this.session = this.ua.invite(target, {
      body: sdp,
      from: `sip:${user}@127.0.0.1`,
      displayName: this.options.displayName,
      auth: this.options.auth
    });
    this.session.on('terminated', () => {
      this.ended = true;
      this.stopAudio();
    });
    const { answerSdp } = await this.session.established;
    this.answerSdp = answerSdp;
    const port = Number(/m=audio (\d+)/.exec(answerSdp)?.[1]);
    const address = /c=IN IP4 (\S+)/.exec(answerSdp)?.[1] ?? '127.0.0.1';
    this.remote = { address, port };
    this.streamStartMs = performance.now();
    this.framesProduced = 0;
    this.timer = setInterval(() => this.sendDueFrames(), this.frameMs / 2);
  }

  /**
   * Presses `digit` in-band: its DTMF frequency pair (ITU-T Q.23) at -10 dBFS per tone for `ms`
   * of media (rounded to whole 20 ms frames). With `stall`, the packets from `afterMs` into the
   * press on are held back for `ms` and then sent at once, as after a network stall.
   */
  inbandDigit(digit: string, ms = 100, stall?: { afterMs: number; ms: number }): Promise<void> {
    const pair = DTMF_PAIRS[digit];
    if (!pair) return Promise.reject(new Error(`not a DTMF digit: ${digit}`));
    if (this.press) return Promise.reject(new Error('a key is already being pressed in-band'));
    if (stall) this.holdPackets(stall);
    return new Promise((done) => {
      this.press = { pair, frames: Math.max(1, Math.round(ms / this.frameMs)), done };
    });
  }

  /**
   * Presses `digit` as RFC 4733 telephone-events on `telephoneEventPt` for `ms` of media, then three end
   * packets. The events replace the audio, unless an in-band press runs at the same time: then
   * both go out, as from a phone that leaves the tone in the audio and also sends events. With
   * `stall`, the packets are held back as `inbandDigit` holds them.
   */
  rfc4733Digit(digit: string, ms = 100, stall?: { afterMs: number; ms: number }): Promise<void> {
    const code = '0123456789*#ABCD'.indexOf(digit.toUpperCase());
    if (code < 0) return Promise.reject(new Error(`not a DTMF digit: ${digit}`));
    if (this.event) return Promise.reject(new Error('a key is already being pressed as RFC 4733'));
    if (this.telephoneEventPt === null)
      return Promise.reject(new Error('this phone offered no telephone-event payload type'));
    if (stall) this.holdPackets(stall);
    return new Promise((done) => {
      this.event = {
        code,
        startTs: this.timestamp,
        samples: 0,
        frames: Math.max(1, Math.round(ms / this.frameMs)),
        end: false,
        endSent: 0,
        done
      };
    });
  }

  /**
   * Sends `count` RFC 4733 events at once, each a single end packet with a timestamp of its own
   * (§2.5.1.4 would repeat it; one is enough to end an event), so each is a new press: what a
   * broken or hostile peer floods a call with. Digits cycle through 0-9; the audio stream goes on.
   */
  rfc4733Flood(count: number): void {
    if (!this.remote) throw new Error('not in a call');
    for (let i = 0; i < count; i++) {
      const p = Buffer.alloc(16);
      p[0] = 0x80;
      p[1] = 0x80 | (this.telephoneEventPt ?? 101);
      p.writeUInt16BE(this.seq++ & 0xffff, 2);
      p.writeUInt32BE((0x40000000 + this.floodEvents++ * this.frameSamples) >>> 0, 4);
      p.writeUInt32BE(this.ssrc, 8);
      p[12] = i % 10;
      p[13] = 0x80 | 10;
      p.writeUInt16BE(this.frameSamples, 14);
      this.transmit(p);
    }
  }

  /** From `afterMs` of media on, holds every packet back for `ms` and then sends them at once. */
  private holdPackets(stall: { afterMs: number; ms: number }): void {
    this.stallAt = {
      frame: this.framesProduced + Math.round(stall.afterMs / this.frameMs),
      frames: Math.round(stall.ms / this.frameMs)
    };
  }

  /** Waits until `ms` of media (whole frames) have been sent from now. */
  async media(ms: number): Promise<void> {
    const until = this.framesProduced + Math.round(ms / this.frameMs);
    while (this.framesProduced < until && this.timer) await new Promise((r) => setTimeout(r, this.frameMs));
  }

  /** Sends a DTMF digit as SIP INFO (application/dtmf-relay). */
  async infoDigit(digit: string, durationMs = 160): Promise<number> {
    if (!this.session) throw new Error('not in a call');
    return this.session.info('application/dtmf-relay', `Signal=${digit}\r\nDuration=${durationMs}\r\n`);
  }

  /** Everything received so far, as one PCM array. */
  receivedPcm(): Int16Array {
    const total = this.received.reduce((n, c) => n + c.length, 0);
    const out = new Int16Array(total);
    let at = 0;
    for (const c of this.received) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Samples received so far (since the last `clearReceived`). */
  get receivedSamples(): number {
    let n = 0;
    for (const c of this.received) n += c.length;
    return n;
  }

  /**
   * Forgets what was received, then waits until `ms` of audio has arrived (not `ms` of wall
   * time: a stalled process reads its sockets late) and returns it.
   */
  async listen(ms: number, timeoutMs = 30_000): Promise<Int16Array> {
    this.clearReceived();
    const want = (ms * SAMPLE_RATE_HZ) / 1000;
    const until = Date.now() + timeoutMs;
    while (this.receivedSamples < want) {
      if (Date.now() > until)
        throw new Error(`received ${this.receivedSamples} of ${want} samples within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, this.frameMs));
    }
    return this.receivedPcm();
  }

  /** Forgets what was received so far (to analyse a fresh window). */
  clearReceived(): void {
    this.received.length = 0;
    this.arrivalsMs.length = 0;
    this.receivedPackets.length = 0;
  }

  /** The longest time between two received audio packets since clearReceived(), in ms (a gap the listener hears). */
  largestGapMs(): number {
    return this.largestGap().gapMs;
  }

  /**
   * The longest gap and when it ended (performance.now()). With `heldOffMs` (a HostStallWatch's),
   * each gap counts net of the time the host held the process off the CPU in it: `gapMs` is the
   * largest net gap and `heardMs` that gap as the listener heard it.
   */
  largestGap(heldOffMs?: (fromMs: number, toMs: number) => number): {
    gapMs: number;
    heardMs: number;
    endedAtMs: number;
  } {
    let worst = { gapMs: 0, heardMs: 0, endedAtMs: 0 };
    for (let i = 1; i < this.arrivalsMs.length; i++) {
      const from = this.arrivalsMs[i - 1];
      const to = this.arrivalsMs[i];
      const net = to - from - (heldOffMs?.(from, to) ?? 0);
      if (net > worst.gapMs) worst = { gapMs: net, heardMs: to - from, endedAtMs: to };
    }
    return worst;
  }

  get packetsReceived(): number {
    return this.arrivalsMs.length;
  }

  async hangUp(): Promise<void> {
    this.stopAudio();
    if (this.session && !this.ended) await this.session.bye().catch(() => undefined);
  }

  private closed = false;

  /** Hangs up and releases the sockets; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.hangUp();
    this.rtp.close();
    await this.ua.close();
  }

  /** A phone that dies: no more RTP, no BYE, and its sockets gone (what a crashed peer looks like). */
  async vanish(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopAudio();
    this.rtp.close();
    await this.ua.close();
  }

  /** Stops sending RTP but stays in the call (a peer whose media died). */
  goSilent(): void {
    this.stopAudio();
  }

  /** Whether the far end ended the call (BYE received). */
  get endedByRemote(): boolean {
    return this.ended && !this.closed;
  }

  private stopAudio(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.press?.done();
    this.press = undefined;
    this.event?.done();
    this.event = undefined;
  }

  /** Sends every frame the media clock has due (a burst after the event loop was held up). */
  private sendDueFrames(): void {
    const due = Math.floor((performance.now() - this.streamStartMs) / this.frameMs);
    while (this.timer && this.framesProduced < due) {
      if (this.stallAt && this.framesProduced === this.stallAt.frame) {
        this.stall = { untilFrame: this.stallAt.frame + this.stallAt.frames, held: [] };
        this.stallAt = undefined;
      }
      if (this.stall && this.framesProduced >= this.stall.untilFrame) {
        // The stall is over when the frame after it is due: what it held goes out at once.
        const held = this.stall.held;
        this.stall = undefined;
        for (const p of held) this.transmit(p);
      }
      this.sendFrame();
      this.framesProduced++;
    }
  }

  /** Sends one RTP packet now, or holds a copy of it while a stall is simulated. */
  private transmit(p: Buffer): void {
    if (!this.remote) return;
    if (this.stall) this.stall.held.push(Buffer.from(p));
    else this.rtp.send(p, this.remote.port, this.remote.address);
  }

  /** One RFC 4733 packet (§2.3): the event's timestamp, growing duration, E bit at the end (sent 3 times). */
  private sendEvent(event: NonNullable<TonePhone['event']>): void {
    const p = Buffer.alloc(16);
    p[0] = 0x80;
    p[1] = (event.samples === 0 ? 0x80 : 0) | (this.telephoneEventPt ?? 101);
    p.writeUInt16BE(this.seq & 0xffff, 2);
    p.writeUInt32BE(event.startTs >>> 0, 4);
    p.writeUInt32BE(this.ssrc, 8);
    if (!event.end) event.samples += this.frameSamples;
    p[12] = event.code;
    p[13] = (event.end ? 0x80 : 0) | 10;
    p.writeUInt16BE(Math.max(event.samples, this.frameSamples), 14);
    this.seq++;
    this.transmit(p);
    if (!event.end && --event.frames === 0) event.end = true;
    else if (event.end && ++event.endSent === 3) {
      this.event = undefined;
      event.done();
    }
  }

  private sendFrame(): void {
    if (!this.remote) return;
    const event = this.event;
    if (event) this.sendEvent(event);
    if (!event || this.press) this.sendAudio();
    this.timestamp += this.frameSamples;
  }

  private sendAudio(): void {
    const p = this.packet;
    p[0] = 0x80;
    p[1] = (this.seq === 1 ? 0x80 : 0) | this.payloadType;
    p.writeUInt16BE(this.seq & 0xffff, 2);
    p.writeUInt32BE(this.timestamp >>> 0, 4);
    p.writeUInt32BE(this.ssrc, 8);
    const rate = this.rateHz;
    const step = this.toneHz === null ? 0 : (2 * Math.PI * this.toneHz) / rate;
    const press = this.press;
    const pair = press?.pair;
    for (let i = 0; i < this.frameSamples; i++) {
      let s = this.toneHz === null ? 0 : Math.round(this.amplitude * Math.sin(this.phase));
      if (pair) {
        const t = (this.timestamp + i) / rate;
        s = Math.round(10362 * (Math.sin(2 * Math.PI * pair[0] * t) + Math.sin(2 * Math.PI * pair[1] * t)));
      }
      this.phase += step;
      if (this.payloadType === L16_PT) p.writeInt16BE(s, 12 + 2 * i);
      else p[12 + i] = this.payloadType === 8 ? alawEncode(s) : ulawEncode(s);
    }
    this.seq++;
    this.transmit(p.subarray(0, 12 + (this.payloadType === L16_PT ? 2 : 1) * this.frameSamples));
    if (press && --press.frames === 0) {
      this.press = undefined;
      press.done();
    }
  }
}

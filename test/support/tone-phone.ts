/**
 * A test phone: a SIP UAC (the project's own SIP stack, separate from the engine under test)
 * with a plain UDP RTP socket that streams a PCMU sine tone and keeps everything it receives,
 * decoded, for analysis. It speaks RTP itself, independently of the engine's RTP code.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { SipUserAgent, type OutgoingInvite } from '../../sip/user-agent.js';
import { ulawDecode, ulawEncode } from './tone-analysis.js';

const SAMPLE_RATE_HZ = 8000;
/** ITU-T Q.23 low and high frequencies of each key. */
const DTMF_PAIRS: Record<string, [number, number]> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], A: [697, 1633],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], B: [770, 1633],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], C: [852, 1633],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], D: [941, 1633]
};
const FRAME_SAMPLES = 160;

export interface TonePhoneOptions {
  /** Tone to send; null sends silence. */
  toneHz: number | null;
  /** Peak amplitude of the tone (default 6000, about -15 dBFS). */
  amplitude?: number;
  displayName?: string;
  user?: string;
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
  private readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private readonly received: Int16Array[] = [];
  private readonly packet = Buffer.alloc(12 + FRAME_SAMPLES);
  /** While set, the stream carries this DTMF pair (in-band) instead of the tone. */
  private dtmfPair: [number, number] | undefined;
  /** While set, the stream carries RFC 4733 events for this digit instead of audio. */
  private event: { code: number; startTs: number; samples: number; end: boolean; endSent: number } | undefined;
  toneHz: number | null;
  amplitude: number;
  ended = false;

  private constructor(ua: SipUserAgent, rtp: dgram.Socket, private readonly options: TonePhoneOptions) {
    this.ua = ua;
    this.rtp = rtp;
    this.toneHz = options.toneHz;
    this.amplitude = options.amplitude ?? 6000;
    rtp.on('message', this.onRtp);
  }

  private readonly onRtp = (msg: Buffer): void => {
    if (msg.length < 12 + 1 || (msg[0] & 0xc0) !== 0x80 || (msg[1] & 0x7f) !== 0) return;
    const payload = msg.subarray(12 + (msg[0] & 0x0f) * 4);
    const pcm = new Int16Array(payload.length);
    for (let i = 0; i < payload.length; i++) pcm[i] = ulawDecode(payload[i]);
    this.received.push(pcm);
  };

  static async create(options: TonePhoneOptions): Promise<TonePhone> {
    const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
    await ua.start();
    const rtp = dgram.createSocket('udp4');
    rtp.bind(0, '127.0.0.1');
    await once(rtp, 'listening');
    return new TonePhone(ua, rtp, options);
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  private sdpVersion = 1;

  private offer(direction: 'sendrecv' | 'sendonly' | 'inactive' = 'sendrecv'): string {
    return [
      'v=0',
      `o=tonephone 1 ${this.sdpVersion++} IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${this.rtpPort} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=ptime:20',
      `a=${direction}`,
      ''
    ].join('\r\n');
  }

  /**
   * Re-INVITEs mid-call (RFC 3261 §14): optionally from a new RTP port (a phone that moved), or
   * with another direction (sendonly puts the far end on hold, RFC 3264 §8.4).
   */
  async reinvite(options: { newPort?: boolean; direction?: 'sendrecv' | 'sendonly' | 'inactive' } = {}): Promise<void> {
    if (!this.session) throw new Error('not in a call');
    if (options.newPort) {
      const next = dgram.createSocket('udp4');
      next.bind(0, '127.0.0.1');
      await once(next, 'listening');
      next.on('message', this.onRtp);
      this.rtp.close();
      this.rtp = next;
    }
    const answer = await this.session.reinvite(this.offer(options.direction));
    this.remote = { address: /c=IN IP4 (\S+)/.exec(answer)?.[1] ?? '127.0.0.1', port: Number(/m=audio (\d+)/.exec(answer)?.[1]) };
  }

  /** Calls `target` and resolves once answered; audio starts flowing at once. */
  async call(target: string): Promise<void> {
    const sdp = this.offer();
    const user = this.options.user ?? 'tonephone';
    this.session = this.ua.invite(target, {
      body: sdp,
      from: `sip:${user}@127.0.0.1`,
      displayName: this.options.displayName
    });
    this.session.on('terminated', () => {
      this.ended = true;
      this.stopAudio();
    });
    const { answerSdp } = await this.session.established;
    const port = Number(/m=audio (\d+)/.exec(answerSdp)?.[1]);
    const address = /c=IN IP4 (\S+)/.exec(answerSdp)?.[1] ?? '127.0.0.1';
    this.remote = { address, port };
    // Paced by elapsed time: a bare 20 ms setInterval runs 1-5 % slow on a busy host and
    // starves the engine's jitter buffer every few seconds.
    const startedMs = performance.now();
    let sent = 0;
    this.timer = setInterval(() => {
      const due = Math.floor((performance.now() - startedMs) / 20);
      for (let n = 0; n < 5 && sent < due; n++, sent++) this.sendFrame();
      sent = Math.max(sent, due - 5);
    }, 10);
  }

  /** Presses `digit` in-band: its DTMF frequency pair (ITU-T Q.23) at -10 dBFS per tone for `ms`. */
  async inbandDigit(digit: string, ms = 100): Promise<void> {
    const pair = DTMF_PAIRS[digit];
    if (!pair) throw new Error(`not a DTMF digit: ${digit}`);
    this.dtmfPair = pair;
    await new Promise((r) => setTimeout(r, ms));
    this.dtmfPair = undefined;
  }

  /** Presses `digit` as RFC 4733 telephone-events on PT 101 for `ms`, with three end packets. */
  async rfc4733Digit(digit: string, ms = 100): Promise<void> {
    const code = '0123456789*#ABCD'.indexOf(digit.toUpperCase());
    if (code < 0) throw new Error(`not a DTMF digit: ${digit}`);
    this.event = { code, startTs: this.timestamp, samples: 0, end: false, endSent: 0 };
    await new Promise((r) => setTimeout(r, ms));
    this.event.end = true;
    await new Promise((r) => setTimeout(r, 100));
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

  /** Forgets what was received so far (to analyse a fresh window). */
  clearReceived(): void {
    this.received.length = 0;
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

  private stopAudio(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One RFC 4733 packet (§2.3): the event's timestamp, growing duration, E bit at the end (sent 3 times). */
  private sendEvent(event: NonNullable<TonePhone['event']>): void {
    const p = Buffer.alloc(16);
    p[0] = 0x80;
    p[1] = (event.samples === 0 ? 0x80 : 0) | 101;
    p.writeUInt16BE(this.seq & 0xffff, 2);
    p.writeUInt32BE(event.startTs >>> 0, 4);
    p.writeUInt32BE(this.ssrc, 8);
    if (!event.end) event.samples += FRAME_SAMPLES;
    p[12] = event.code;
    p[13] = (event.end ? 0x80 : 0) | 10;
    p.writeUInt16BE(Math.max(event.samples, FRAME_SAMPLES), 14);
    this.seq++;
    this.timestamp += FRAME_SAMPLES;
    this.rtp.send(p, this.remote!.port, this.remote!.address);
    if (event.end && ++event.endSent === 3) this.event = undefined;
  }

  private sendFrame(): void {
    if (!this.remote) return;
    if (this.event) {
      this.sendEvent(this.event);
      return;
    }
    const p = this.packet;
    p[0] = 0x80;
    p[1] = this.seq === 1 ? 0x80 : 0;
    p.writeUInt16BE(this.seq & 0xffff, 2);
    p.writeUInt32BE(this.timestamp >>> 0, 4);
    p.writeUInt32BE(this.ssrc, 8);
    const step = this.toneHz === null ? 0 : (2 * Math.PI * this.toneHz) / SAMPLE_RATE_HZ;
    const pair = this.dtmfPair;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      let s = this.toneHz === null ? 0 : Math.round(this.amplitude * Math.sin(this.phase));
      if (pair) {
        const t = (this.timestamp + i) / SAMPLE_RATE_HZ;
        s = Math.round(10362 * (Math.sin(2 * Math.PI * pair[0] * t) + Math.sin(2 * Math.PI * pair[1] * t)));
      }
      this.phase += step;
      p[12 + i] = ulawEncode(s);
    }
    this.seq++;
    this.timestamp += FRAME_SAMPLES;
    this.rtp.send(p, this.remote.port, this.remote.address);
  }
}

/**
 * The benchmark's callers: SIP calls placed with the project's own UAC, each with a plain UDP
 * socket sending 50 μ-law packets a second from one shared timer, and for the delay measurement
 * a click (one loud frame after silence) sent by one caller and timed where another receives it.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { SipUserAgent, type OutgoingInvite } from '../../sip/index.js';
import { ulawTone } from '../support/ulaw-tone.js';

const FRAME_MS = 20;
const PAYLOAD_BYTES = 160;
const TONE = Buffer.from(ulawTone(440, 6000, PAYLOAD_BYTES * 50));
const CLICK = Buffer.from(ulawTone(1000, 20000, PAYLOAD_BYTES));
const SILENCE = Buffer.alloc(PAYLOAD_BYTES, 0xff);

export class Caller {
  private seq = 1;
  private timestamp = 0;
  private frames = 0;
  private readonly packet = Buffer.alloc(12 + PAYLOAD_BYTES);
  private remote: { address: string; port: number } | undefined;
  private session: OutgoingInvite | undefined;
  /** Send silence instead of the tone (delay measurement). */
  silent = false;
  private clickPending = false;
  private clickWaiter: ((atMs: number) => void) | undefined;

  constructor(
    private readonly ua: SipUserAgent,
    private readonly socket: dgram.Socket,
    index: number
  ) {
    this.packet[0] = 0x80;
    this.packet.writeUInt32BE((0x20000000 + index) >>> 0, 8);
    socket.on('message', (msg: Buffer) => {
      if (!this.clickWaiter || msg.length < 12 + 80) return;
      // μ-law codes below 0x20 (or 0xa0..) are loud samples: the click has arrived.
      for (let i = 12; i < msg.length; i++) {
        if ((msg[i] & 0x7f) < 0x20) {
          const wake = this.clickWaiter;
          this.clickWaiter = undefined;
          wake(performance.now());
          return;
        }
      }
    });
  }

  static async call(ua: SipUserAgent, target: string, index: number): Promise<Caller> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const port = socket.address().port;
    const caller = new Caller(ua, socket, index);
    const sdp = `v=0\r\no=bench ${index} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n`;
    caller.session = ua.invite(target, { body: sdp, from: `sip:bench${index}@127.0.0.1` });
    const { answerSdp } = await caller.session.established;
    caller.remote = {
      address: /c=IN IP4 (\S+)/.exec(answerSdp)?.[1] ?? '127.0.0.1',
      port: Number(/m=audio (\d+)/.exec(answerSdp)?.[1])
    };
    return caller;
  }

  sendFrame(): void {
    if (!this.remote) return;
    const p = this.packet;
    p.writeUInt16BE(this.seq & 0xffff, 2);
    p.writeUInt32BE(this.timestamp >>> 0, 4);
    if (this.clickPending) {
      this.clickPending = false;
      CLICK.copy(p, 12);
    } else if (this.silent) SILENCE.copy(p, 12);
    else TONE.copy(p, 12, (this.frames % 50) * PAYLOAD_BYTES, ((this.frames % 50) + 1) * PAYLOAD_BYTES);
    this.socket.send(p, this.remote.port, this.remote.address);
    this.seq++;
    this.frames++;
    this.timestamp += PAYLOAD_BYTES;
  }

  /** The next frame sent is a click; resolves with when it left. */
  click(): number {
    this.clickPending = true;
    return performance.now();
  }

  /** Resolves with the time the next click arrives. */
  nextClick(): Promise<number> {
    return new Promise((resolve) => (this.clickWaiter = resolve));
  }

  async hangUp(): Promise<void> {
    await this.session?.bye().catch(() => undefined);
    this.socket.close();
  }
}

/** Drives every caller's 50 packets a second from one timer. */
export class CallerPool {
  readonly callers: Caller[] = [];
  readonly ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    timers: { t1Ms: 500 }
  });
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private sentFrames = 0;

  async start(): Promise<void> {
    await this.ua.start();
    this.started = performance.now();
    this.timer = setInterval(() => {
      const due = Math.floor((performance.now() - this.started) / FRAME_MS);
      while (this.sentFrames < due) {
        this.sentFrames++;
        for (const c of this.callers) c.sendFrame();
      }
    }, 2);
  }

  async add(target: string): Promise<Caller> {
    const caller = await Caller.call(this.ua, target, this.callers.length);
    this.callers.push(caller);
    return caller;
  }

  async hangUpAll(): Promise<void> {
    await Promise.all(this.callers.splice(0).map((c) => c.hangUp()));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.hangUpAll();
    await this.ua.close();
  }
}

/**
 * The load side of the benchmark, in its own process (on the other core): SIP calls placed with
 * the project's own UAC, each with a plain UDP socket that sends 50 RTP packets per second
 * (a precomputed PCMU or G.722 tone, LOAD_CODEC, or silence for a caller who only listens) and
 * counts what it receives. One timer drives every call's sends.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { SipUserAgent } from '../../sip/user-agent.js';
import type { FromGenerator, GeneratorSample, ToGenerator } from './protocol.js';
import { callerAudio, loadCodecFromEnv } from './caller-audio.js';

const FRAME_MS = 20;
const PAYLOAD_BYTES = 160;

interface Call {
  socket: dgram.Socket;
  remote: { address: string; port: number };
  packet: Buffer;
  /** Sends the tone; a listener sends digital silence (PCMU 0xFF), as a muted or quiet phone can. */
  talks: boolean;
  seq: number;
  timestamp: number;
  sent: number;
  received: number;
  /** When in each 20 ms period this caller sends: phones are not synchronised with each other. */
  phaseMs: number;
  /** Frames this call has sent, counted from `startFrame`. */
  frames: number;
  startFrame: number;
}

const ua = new SipUserAgent({
  transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
  timers: { t1Ms: 500 }
});
const calls: Call[] = [];
let failed = 0;
let started = 0;
const send = (message: FromGenerator): void => void process.send?.(message);

/** One second of a 440 Hz tone at about -15 dBFS: what every caller "says". */
const audio = callerAudio(loadCodecFromEnv());
const tone = audio.tone;

async function placeCall(sipPort: number, room: string, index: number, talks: boolean): Promise<void> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const port = socket.address().port;
  // What phones offer: the codec and RFC 4733 telephone-event (no digit is pressed during the run).
  const sdp = `v=0\r\no=load ${index} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n${audio.sdpMedia(port)}a=ptime:20\r\na=sendrecv\r\n`;
  try {
    const session = ua.invite(`sip:${room}@127.0.0.1:${sipPort}`, {
      body: sdp,
      from: `sip:load${index}@127.0.0.1`
    });
    const { answerSdp } = await session.established;
    const remotePort = Number(/m=audio (\d+)/.exec(answerSdp)?.[1]);
    const call: Call = {
      socket,
      remote: { address: '127.0.0.1', port: remotePort },
      packet: Buffer.alloc(12 + PAYLOAD_BYTES),
      talks,
      seq: (index * 7919) & 0xffff,
      timestamp: 0,
      sent: 0,
      received: 0,
      phaseMs: (index * 7) % FRAME_MS,
      frames: 0,
      startFrame: Math.floor((performance.now() - started) / FRAME_MS) + 1
    };
    call.packet[0] = 0x80;
    call.packet[1] = audio.payloadType;
    call.packet.fill(0xff, 12); // silence in PCMU and G.722: a listener's payload stays so
    call.packet.writeUInt32BE((0x10000000 + index) >>> 0, 8);
    socket.on('message', () => call.received++);
    calls.push(call);
  } catch {
    failed++;
    socket.close();
  }
}

/**
 * Which room caller `i` joins when rooms are filled in turn with sizes cycling through `sizes`,
 * and how many joined it before.
 */
function roomPlace(i: number, sizes: number[]): { room: number; position: number } {
  let room = 0;
  let left = i;
  while (left >= sizes[room % sizes.length]) {
    left -= sizes[room % sizes.length];
    room++;
  }
  return { room, position: left };
}

function sendFrame(call: Call): void {
  const frame = call.frames++;
  const p = call.packet;
  p.writeUInt16BE(call.seq & 0xffff, 2);
  p.writeUInt32BE(call.timestamp >>> 0, 4);
  if (call.talks) {
    const at = (frame % 50) * PAYLOAD_BYTES;
    tone.copy(p, 12, at, at + PAYLOAD_BYTES);
  }
  call.socket.send(p, call.remote.port, call.remote.address);
  call.seq++;
  call.timestamp += PAYLOAD_BYTES;
  call.sent++;
}

/**
 * Sends every frame that is due, each call at its own phase within the 20 ms period, catching up
 * after a late timer so each call keeps 50 packets/s.
 */
function tick(): void {
  const now = performance.now() - started;
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    const due = Math.floor((now - call.phaseMs) / FRAME_MS) - call.startFrame + 1;
    while (call.frames < due) sendFrame(call);
  }
}

// An orchestrator that dies (Ctrl-C, kill) takes its children with it.
process.on('disconnect', () => process.exit(1));
process.on('message', async (message: ToGenerator) => {
  if (message.type === 'grow') {
    const batch: Promise<void>[] = [];
    for (let i = calls.length + failed; i < message.total; i++) {
      const { room, position } = roomPlace(i, message.roomSizes);
      const talks = position < (message.talkersPerRoom ?? Infinity);
      batch.push(placeCall(message.port, `${message.roomPrefix}${room}`, i, talks));
      if (batch.length === 25) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    send({ type: 'grown', calls: calls.length, failed });
  } else if (message.type === 'sample') {
    const atMs = performance.now();
    let sent = 0;
    let received = 0;
    for (const call of calls) {
      sent += call.sent;
      received += call.received;
    }
    const sample: GeneratorSample = { atMs, calls: calls.length, sent, received, failedCalls: failed };
    send({ type: 'sample', sample });
  } else if (message.type === 'stop') {
    clearInterval(timer);
    for (const call of calls) call.socket.close();
    await ua.close();
    process.exit(0);
  }
});

await ua.start();
started = performance.now();
const timer = setInterval(tick, 2);
send({ type: 'grown', calls: 0, failed: 0 });

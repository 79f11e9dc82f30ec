/**
 * One TCP or WebSocket connection pipelining thousands of OPTIONS cannot starve the media frame
 * clock: the stream transports hand a connection's messages to the SIP stack a few per
 * event-loop turn, so an honest call's RTP keeps flowing while the flood is answered, every
 * request of it (message-pacer.ts). The rate limit is set out of reach here, so that the
 * fairness between turns alone is under test (message-pacing.test.ts tests the rate).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ConferenceLifetimeControl, ConferencePartyMediaSettings, Engine } from '../../../engine/index.js';
import { optionsText } from '../../support/sip-udp-peer.js';
import { TonePhone } from '../../support/tone-phone.js';
import { waitFor } from '../../support/wait.js';
import { maskedTextFrame, webSocketUpgradeRequest } from '../../support/raw-websocket.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const FLOOD = 4000;
/** The flood's duration is cut into this many windows: each must see RTP. */
const WINDOWS = 10;

interface Setup {
  engine: Engine;
  udpPort: number;
  tcpPort: number;
  wsPort: number;
  phone: TonePhone;
}

/** An engine carrying one call in a conference room, its RTP flowing to the phone. */
async function engineWithCall(): Promise<Setup> {
  const engine = new Engine({
    sip: {
      host: '127.0.0.1',
      port: 0,
      transports: ['udp', 'tcp'],
      connections: { maxMessagesPerSecond: 1_000_000, messageBurst: 1_000_000 }
    },
    webSocket: { host: '127.0.0.1', port: 0, path: '/sip' },
    rtp: { minPort: 58400, maxPort: 58599 },
    logLevel: 'silent'
  });
  engine.on('call', (channel) => {
    void (async () => {
      await channel.answer();
      await channel.transferToConferenceRoom(engine.createChannel(), 'flooded', {
        conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true, destroyOnExit: true }),
        conferencePartyMediaSettings: new ConferencePartyMediaSettings({})
      });
    })().catch(() => undefined);
  });
  await engine.start();
  cleanups.push(() => engine.stop());
  const port = (protocol: string): number => engine.sipAddresses().find((a) => a.protocol === protocol)!.port;
  const phone = await TonePhone.create({ toneHz: 440 });
  cleanups.push(() => phone.close());
  await phone.call(`sip:flooded@127.0.0.1:${port('udp')}`);
  await waitFor(() => phone.packetsReceived >= 25, 15_000);
  return { engine, udpPort: port('udp'), tcpPort: port('tcp'), wsPort: port('ws'), phone };
}

/**
 * Runs `flood` (which resolves once every request is answered) and returns how many of the
 * phone's packets arrived in each tenth of the time it ran. Tenths, not fixed windows: a slow or
 * busy host stretches the flood and the windows with it, while a flood that holds the event loop
 * leaves some of them without a packet however fast the host is.
 */
async function packetsPerWindowDuring(phone: TonePhone, flood: () => Promise<void>): Promise<number[]> {
  const arrivals: number[] = [];
  const startMs = performance.now();
  let seen = phone.packetsReceived;
  // Arrival times read from the phone's count on every turn the loop gives us: a stalled loop
  // shows as windows without any.
  const poll = setInterval(() => {
    const now = phone.packetsReceived;
    for (; seen < now; seen++) arrivals.push(performance.now());
  }, 5);
  try {
    await flood();
  } finally {
    clearInterval(poll);
  }
  const endMs = performance.now();
  const windowMs = (endMs - startMs) / WINDOWS;
  const windows = new Array<number>(WINDOWS).fill(0);
  for (const at of arrivals) windows[Math.min(WINDOWS - 1, Math.floor((at - startMs) / windowMs))]++;
  return windows;
}

/** A raw TCP connection upgraded to a SIP WebSocket: frames can be written in one go. */
async function rawWebSocket(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  cleanups.push(() => void socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(webSocketUpgradeRequest(port));
  let head = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
  });
  return socket;
}

/** Counts the 200 answers in a stream of SIP text. */
function answerCounter(): { take(text: string): void; readonly answered: number } {
  let received = '';
  let from = 0;
  let answered = 0;
  return {
    get answered() {
      return answered;
    },
    take(text: string) {
      received += text;
      for (
        let at = received.indexOf('SIP/2.0 200 ', from);
        at >= 0;
        at = received.indexOf('SIP/2.0 200 ', from)
      ) {
        answered++;
        from = at + 1;
      }
      // What was counted is no longer needed.
      received = received.slice(Math.max(0, from - 1));
      from = Math.min(from, 1);
    }
  };
}

describe('a pipelined request flood on one stream connection', () => {
  it('over TCP: every request is answered while the honest call receives RTP in every tenth of it', async () => {
    const { tcpPort, phone } = await engineWithCall();
    const socket = net.connect({ host: '127.0.0.1', port: tcpPort });
    cleanups.push(() => void socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const counter = answerCounter();
    socket.on('data', (chunk: Buffer) => counter.take(chunk.toString('latin1')));
    const requests: string[] = [];
    for (let i = 0; i < FLOOD; i++)
      requests.push(optionsText(`flood-${i}`, 'TCP', socket.localPort!, tcpPort));
    const windows = await packetsPerWindowDuring(phone, async () => {
      socket.write(requests.join(''));
      await waitFor(() => counter.answered >= FLOOD, 60_000);
    });
    expect(counter.answered).toBe(FLOOD);
    expect(windows.filter((n) => n === 0)).toEqual([]);
  }, 90_000);

  it('over WebSocket: every request is answered while the honest call receives RTP in every tenth of it', async () => {
    const { wsPort, phone } = await engineWithCall();
    const socket = await rawWebSocket(wsPort);
    const counter = answerCounter();
    socket.on('data', (chunk: Buffer) => counter.take(chunk.toString('latin1')));
    const frames: Buffer[] = [];
    for (let i = 0; i < FLOOD; i++)
      frames.push(
        maskedTextFrame(
          optionsText(`ws-flood-${i}`, 'TCP', socket.localPort!, wsPort).replace('SIP/2.0/TCP', 'SIP/2.0/WS'),
          Buffer.alloc(4)
        )
      );
    const windows = await packetsPerWindowDuring(phone, async () => {
      socket.write(Buffer.concat(frames));
      await waitFor(() => counter.answered >= FLOOD, 60_000);
    });
    expect(counter.answered).toBe(FLOOD);
    expect(windows.filter((n) => n === 0)).toEqual([]);
  }, 90_000);
});

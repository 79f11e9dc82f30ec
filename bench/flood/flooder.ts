/**
 * The attacker of `npm run bench:flood`, in a process of its own: `tsx flooder.ts KIND PORT
 * SECONDS RATE`. KIND `options` sends OPTIONS over UDP from 127.0.0.2 (RATE a second, or as fast
 * as the socket takes them when RATE is 0); `tls` opens TLS connections to PORT from 127.0.0.2,
 * RATE at a time, closing each once its handshake is done; `tcp` opens RATE connections to PORT
 * and pipelines OPTIONS over each as fast as the connection takes them. Prints `started` once it starts
 * sending (its own start-up is not the engine's load), then one line of JSON: what it sent and
 * what came back.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { optionsText } from '../../test/support/sip-udp-peer.js';

const [kind, portText, secondsText, rateText] = process.argv.slice(2);
const port = Number(portText);
let endMs = 0;
const rate = Number(rateText);
const SOURCE = '127.0.0.2';

/** Starts the clock of the flood and says so. */
function starting(): void {
  endMs = Date.now() + Number(secondsText) * 1000;
  process.stdout.write('started\n');
}

function report(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function options(): void {
  const socket = dgram.createSocket('udp4');
  let sent = 0;
  let answered = 0;
  socket.on('message', () => answered++);
  socket.bind(0, SOURCE, () => {
    const me = socket.address().port;
    const message = (i: number): Buffer => Buffer.from(optionsText(`flood-${i}`, 'UDP', me, port));
    // Paced: a slice every 10 ms; unpaced: 50 at a time, as often as the event loop comes round.
    const burst = rate > 0 ? Math.max(1, Math.round(rate / 100)) : 50;
    const next = (go: () => void): void => void (rate > 0 ? setTimeout(go, 10) : setImmediate(go));
    const go = (): void => {
      for (let k = 0; k < burst; k++) socket.send(message(sent++), port, '127.0.0.1');
      if (Date.now() < endMs) next(go);
      else
        setTimeout(() => {
          report({ sent, answered });
          socket.close();
        }, 500);
    };
    starting();
    go();
  });
}

function handshakes(): void {
  let completed = 0;
  let refused = 0;
  const one = (): void => {
    if (Date.now() >= endMs) return;
    const raw = net.connect({ host: '127.0.0.1', port, localAddress: SOURCE });
    const socket = tls.connect({ socket: raw, rejectUnauthorized: false }, () => {
      completed++;
      socket.destroy();
      one();
    });
    socket.on('error', () => {
      refused++;
      socket.destroy();
      setTimeout(one, 5);
    });
  };
  starting();
  for (let i = 0; i < rate; i++) one();
  setTimeout(
    () => {
      report({ sent: completed + refused, answered: completed });
      process.exit(0);
    },
    endMs - Date.now() + 300
  );
}

function pipelined(): void {
  let sent = 0;
  let answered = 0;
  starting();
  for (let c = 0; c < rate; c++) {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: SOURCE });
    socket.on('data', (d: Buffer) => {
      for (let at = d.indexOf('SIP/2.0 '); at >= 0; at = d.indexOf('SIP/2.0 ', at + 1)) answered++;
    });
    socket.on('error', () => undefined);
    const write = (): void => {
      while (Date.now() < endMs) {
        let batch = '';
        for (let k = 0; k < 20; k++)
          batch += optionsText(`flood-${sent++}`, 'TCP', socket.localPort ?? 0, port);
        if (!socket.write(batch)) {
          socket.once('drain', write);
          return;
        }
      }
    };
    socket.on('connect', write);
  }
  setTimeout(
    () => {
      report({ sent, answered });
      process.exit(0);
    },
    endMs - Date.now() + 300
  );
}

if (kind === 'options') options();
else if (kind === 'tcp') pipelined();
else if (kind === 'tls') handshakes();
else throw new Error(`unknown flood '${kind}': expected options, tls or tcp`);

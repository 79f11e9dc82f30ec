/**
 * A callee over TCP that answers and hangs up at once: its 200 and its BYE arrive in one segment,
 * and the SIP stack handles both before call() sees the answer. The call was answered and then
 * ended by the callee: call() resolves IDLE with cause NORMAL, the 200 is ACKed and the BYE
 * answered 200. Before, call() reported the call FAILED ("its ACK could not be sent").
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cause, Engine, State } from '../../engine/index.js';
import { parseMessage } from '../../sip/message/parser.js';
import type { SipRequest } from '../../sip/message/message.js';
import { okWithAnswer } from '../support/sip-messages.js';
import { waitFor } from '../support/wait.js';

const HOST = '127.0.0.1';
let engine: Engine;

beforeAll(async () => {
  engine = new Engine({
    sip: { host: HOST, port: 0, transports: ['tcp'] },
    rtp: { minPort: 58600, maxPort: 58619 },
    logLevel: 'silent'
  });
  await engine.start();
});

afterAll(async () => {
  await engine?.stop();
});

/** A TCP callee: the messages it reads, split as Content-Length frames them. */
class TcpCallee {
  readonly server = net.createServer();
  readonly messages: string[] = [];
  socket: net.Socket | undefined;
  #buffer = '';

  async listen(): Promise<number> {
    this.server.on('connection', (socket) => {
      this.socket = socket;
      socket.on('data', (chunk: Buffer) => this.#read(chunk.toString('latin1')));
      socket.on('error', () => undefined);
    });
    this.server.listen(0, HOST);
    await once(this.server, 'listening');
    return (this.server.address() as net.AddressInfo).port;
  }

  #read(text: string): void {
    this.#buffer += text;
    for (;;) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\nContent-Length: *(\d+)/i.exec(this.#buffer.slice(0, end))?.[1] ?? 0);
      if (this.#buffer.length < end + 4 + length) return;
      this.messages.push(this.#buffer.slice(0, end + 4 + length));
      this.#buffer = this.#buffer.slice(end + 4 + length);
    }
  }

  async next(startsWith: string): Promise<SipRequest | string> {
    await waitFor(() => this.messages.some((m) => m.startsWith(startsWith)), 10_000);
    const message = this.messages.find((m) => m.startsWith(startsWith))!;
    if (!startsWith.startsWith('SIP/2.0')) {
      const parsed = parseMessage(Buffer.from(message, 'latin1'), { datagram: true });
      if (parsed.kind === 'request' && !parsed.error) return parsed.message;
    }
    return message;
  }

  close(): void {
    this.socket?.destroy();
    this.server.close();
  }
}

const answer = (port: number): string =>
  ['v=0', `o=- 7 1 IN IP4 ${HOST}`, 's=-', `c=IN IP4 ${HOST}`, 't=0 0', `m=audio ${port} RTP/AVP 0`, ''].join(
    '\r\n'
  );

describe('a callee whose 200 and BYE come in one TCP segment', () => {
  it('is a call answered and hung up by the callee: IDLE, cause NORMAL, ACK and 200 to the BYE', async () => {
    const callee = new TcpCallee();
    const port = await callee.listen();
    try {
      const channel = engine.createChannel();
      const placing = channel.call(`sip:bob@${HOST}:${port};transport=tcp`, { secondsTimeout: 10 });
      const invite = (await callee.next('INVITE ')) as SipRequest;
      const contact = `sip:bob@${HOST}:${port};transport=tcp`;
      const ok = okWithAnswer(invite, 'bob', contact, answer(40_000));
      const engineContact = /<([^>]+)>/.exec(invite.get('Contact') ?? '')![1];
      const bye = [
        `BYE ${engineContact} SIP/2.0`,
        `Via: SIP/2.0/TCP ${HOST}:${port};branch=z9hG4bK-bye-1`,
        'Max-Forwards: 70',
        `From: ${invite.get('To')};tag=bob`,
        `To: ${invite.get('From')}`,
        `Call-ID: ${invite.callId}`,
        'CSeq: 1 BYE',
        'Content-Length: 0',
        '',
        ''
      ].join('\r\n');
      callee.socket!.write(Buffer.concat([ok.toBuffer(), Buffer.from(bye, 'latin1')]));

      expect(await placing).toBe(State.IDLE);
      expect(channel.cause()).toBe(Cause.NORMAL);
      expect(((await callee.next('ACK ')) as SipRequest).callId).toBe(invite.callId);
      expect(await callee.next('SIP/2.0 200')).toMatch(/\r\nCSeq: 1 BYE\r\n/i);
      await waitFor(() => engine.rtpPortsInUse === 0);
    } finally {
      callee.close();
    }
  });
});

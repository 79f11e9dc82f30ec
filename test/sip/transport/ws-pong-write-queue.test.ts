/**
 * A pong is an answer too: it is written only if the connection's write queue allows
 * (`maxWriteQueueBytes`), as a SIP answer is. Before, pongs were written unchecked, and a peer
 * that pinged and never read (answering our heartbeat with a pong now and then) grew the
 * engine's send buffer for as long as it liked: four such connections with a 4 KB receive
 * window grew the heap by 32 MB in 50 s once the kernel's buffers were full.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WsPongAnswer } from '../../../sip/transport/ws-pong.js';

/** The little of a ws socket a WsPongAnswer uses: its state, and the pongs it was asked to send. */
function fakeSocket(): { socket: WebSocket; pongs: Buffer[] } {
  const pongs: Buffer[] = [];
  const socket = { readyState: WebSocket.OPEN, pong: (data: Buffer) => pongs.push(data) };
  return { socket: socket as unknown as WebSocket, pongs };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WebSocket pongs and the write queue', () => {
  it('answers the latest ping of a turn when the write queue has room, and asks with its size', async () => {
    const { socket, pongs } = fakeSocket();
    const asked: number[] = [];
    const answer = new WsPongAnswer(socket, (bytes) => (asked.push(bytes), true));
    answer.ping(Buffer.from('one'));
    answer.ping(Buffer.from('latest'));
    await turn();
    expect(pongs.map(String)).toEqual(['latest']);
    expect(asked).toEqual([6]);
  });

  it('writes no pong when the write queue is full (the connection is closed for it)', async () => {
    const { socket, pongs } = fakeSocket();
    const answer = new WsPongAnswer(socket, () => false);
    for (let i = 0; i < 3; i++) {
      answer.ping(Buffer.alloc(125));
      await turn();
    }
    expect(pongs).toEqual([]);
  });
});

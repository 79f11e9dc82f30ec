/**
 * HTTP requests a connection has read and not yet answered in full. Node's parser reads a whole
 * chunk of pipelined requests before it pauses a connection whose answers are not being read, so
 * a peer that writes many requests and reads nothing makes the server hold every queued answer.
 * Browsers and scrapers never pipeline: past a few waiting requests, the connection is closed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export class PipelinedRequestLimit {
  readonly #waiting = new WeakMap<Socket, number>();

  constructor(readonly max: number) {}

  /**
   * Counts `request` in until its response closes. False when its connection already has `max`
   * requests waiting: the caller closes the connection and answers nothing.
   */
  admit(request: IncomingMessage, response: ServerResponse): boolean {
    const socket = request.socket;
    const waiting = (this.#waiting.get(socket) ?? 0) + 1;
    if (waiting > this.max) return false;
    this.#waiting.set(socket, waiting);
    response.once('close', () => this.#waiting.set(socket, (this.#waiting.get(socket) ?? 1) - 1));
    return true;
  }
}

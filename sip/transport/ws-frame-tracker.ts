/**
 * Follows RFC 6455 framing (§5.2) over a WebSocket connection's raw bytes as they arrive, before
 * `ws` parses them, so the connection guard knows when a data message is incomplete and when one
 * is whole. `ws` reports whole messages and control frames, not a message in progress: a ping or
 * pong between the fragments of a message (§5.4 allows them) is no progress on it, and counted as
 * progress it let a peer hold half a message open past its deadline for as long as it pinged.
 * Frames `ws` will refuse (reserved opcodes, oversized lengths) are followed all the same: it
 * closes the connection.
 */

const OPCODE_CONTINUATION = 0x0;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const MAX_HEADER_BYTES = 14;

export class WsFrameTracker {
  readonly #header = Buffer.alloc(MAX_HEADER_BYTES);
  #headerBytes = 0;
  #payloadLeft = 0;
  #opcode = 0;
  #fin = false;
  /** A data message has begun and its final fragment has not come. */
  #fragmented = false;

  /** Whether bytes of a frame, or fragments of a message, wait for the rest. */
  get incomplete(): boolean {
    return this.#headerBytes > 0 || this.#payloadLeft > 0 || this.#fragmented;
  }

  /** Follows `chunk`; returns how many data messages it completed. */
  feed(chunk: Uint8Array): number {
    let completed = 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, chunk.length - at);
        this.#payloadLeft -= take;
        at += take;
        if (this.#payloadLeft === 0) completed += this.#frameDone();
        continue;
      }
      this.#header[this.#headerBytes++] = chunk[at++];
      if (this.#headerBytes < 2 || this.#headerBytes < this.#headerLength()) continue;
      const payload = this.#payloadLength();
      this.#fin = (this.#header[0] & 0x80) !== 0;
      this.#opcode = this.#header[0] & 0x0f;
      this.#headerBytes = 0;
      if (payload === 0) completed += this.#frameDone();
      else this.#payloadLeft = payload;
    }
    return completed;
  }

  #headerLength(): number {
    const length7 = this.#header[1] & 0x7f;
    const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    return 2 + extended + ((this.#header[1] & 0x80) !== 0 ? 4 : 0);
  }

  #payloadLength(): number {
    const length7 = this.#header[1] & 0x7f;
    if (length7 === 126) return this.#header.readUInt16BE(2);
    if (length7 === 127) return this.#header.readUInt32BE(2) * 2 ** 32 + this.#header.readUInt32BE(6);
    return length7;
  }

  /** A frame is whole: 1 if it ended a data message. */
  #frameDone(): number {
    const opcode = this.#opcode;
    if (opcode !== OPCODE_CONTINUATION && opcode !== OPCODE_TEXT && opcode !== OPCODE_BINARY) return 0;
    this.#fragmented = !this.#fin;
    return this.#fin ? 1 : 0;
  }
}

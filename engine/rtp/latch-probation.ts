/**
 * Sources on probation before they may latch (peer-latch.ts): a source latches once it has sent
 * PROBATION_PACKETS packets in a row from one address and port, with one SSRC and consecutive
 * sequence numbers. This is Asterisk's strictrtp learning (`probation`, its fix for RTP bleed,
 * CVE-2017-14099): a stray packet or a scan that sends one packet per port latches nothing.
 *
 * A fixed table of PROBATION_SLOTS sources, the least recently heard replaced by a new one: a
 * flood of strangers evicts its own sources and allocates nothing.
 */

import { seqDiff16 } from './sequence.js';

export const PROBATION_PACKETS = 4;
const PROBATION_SLOTS = 4;

/** What probation reads of a packet: the RTP header view, so no SSRC above 2^31 is boxed. */
export interface ProbationPacket {
  readonly ssrc: number;
  readonly sequenceNumber: number;
}

export class LatchProbation {
  /** '' in a free slot: no source's address. */
  readonly #hosts: string[] = new Array<string>(PROBATION_SLOTS).fill('');
  readonly #ports = new Int32Array(PROBATION_SLOTS);
  readonly #ssrcs = new Float64Array(PROBATION_SLOTS);
  readonly #sequenceNumbers = new Int32Array(PROBATION_SLOTS);
  /** Packets in a row so far. */
  readonly #counts = new Int32Array(PROBATION_SLOTS);
  /** The packet count when each slot was last heard, for replacing the stalest; 0 when free. */
  readonly #heard = new Float64Array(PROBATION_SLOTS);
  #packets = 0;

  /** Records a packet from a source; true when that source has now served its probation. */
  passes(host: string, port: number, packet: ProbationPacket): boolean {
    const counts = this.#counts;
    const heard = this.#heard;
    const packets = ++this.#packets;
    let slot = -1;
    let stalest = 0;
    for (let i = 0; i < PROBATION_SLOTS; i++) {
      if (this.#ports[i] === port && this.#hosts[i] === host) {
        slot = i;
        break;
      }
      if (heard[i] < heard[stalest]) stalest = i;
    }
    heard[slot === -1 ? stalest : slot] = packets;
    if (
      slot !== -1 &&
      this.#ssrcs[slot] === packet.ssrc &&
      seqDiff16(packet.sequenceNumber, this.#sequenceNumbers[slot]) === 1
    ) {
      this.#sequenceNumbers[slot] = packet.sequenceNumber;
      if (++counts[slot] < PROBATION_PACKETS) return false;
      this.clear();
      return true;
    }
    if (slot === -1) {
      slot = stalest;
      this.#hosts[slot] = host;
      this.#ports[slot] = port;
    }
    this.#ssrcs[slot] = packet.ssrc;
    this.#sequenceNumbers[slot] = packet.sequenceNumber;
    counts[slot] = 1;
    return false;
  }

  /** Forgets every source (something latched, or the peer moved). */
  clear(): void {
    this.#counts.fill(0);
    this.#heard.fill(0);
    this.#hosts.fill('');
  }
}

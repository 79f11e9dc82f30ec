/**
 * The frame's outgoing RTP, sent together once every room of the tick is mixed. A loaded engine
 * sends one packet per participant per frame, and each send runs the kernel's network path (on
 * loopback the receiver's too) between two participants' media work, evicting what that work
 * keeps warm. With the sends after all the mixing, both loops run warm: in `npm run bench:load`
 * at 1000 participants, ticks alternating between the two ways took 5 % less time batched.
 *
 * A sender queues itself at most once per frame and keeps its packet; the batch only calls it
 * back. `flush` runs every queued sender even when one throws, and rethrows the first error.
 */

/** Something with one packet waiting: an RTP session's frame. */
export interface QueuedSender {
  /** Sends the packet it queued (or nothing, if it closed since). */
  sendQueued(): void;
}

export class SendBatch {
  readonly #senders: (QueuedSender | undefined)[] = [];
  #count = 0;

  /** Packets waiting for the next flush. */
  get pending(): number {
    return this.#count;
  }

  add(sender: QueuedSender): void {
    this.#senders[this.#count++] = sender;
  }

  flush(): void {
    const senders = this.#senders;
    const count = this.#count;
    this.#count = 0;
    let failure: unknown;
    for (let i = 0; i < count; i++) {
      const sender = senders[i] as QueuedSender;
      // Not held past its frame: a call that ended may be collected.
      senders[i] = undefined;
      try {
        sender.sendQueued();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

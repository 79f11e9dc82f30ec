/**
 * A moderator's asks to the other nodes of a cluster, and their answers: an ask goes out as a
 * room event (`moderate`, with an id), the node holding the party applies it and answers
 * (`moderated`: done, or the code and message of what refused it there), and the asking call
 * settles on that answer. Without one in `answerTimeoutMs` (that node has gone, or has left the
 * room) it rejects with ERR_CLUSTER_UNAVAILABLE; before, the asking call resolved once the ask was
 * published, whether or not the party was still there.
 */
import type { Moderation } from '../conference/room-moderator.js';
import { EngineError, InvalidArgumentError, InvalidStateError, isEngineErrorCode } from '../errors.js';
import { TtsError, isTtsErrorCode } from '../../tts/index.js';
import type { RoomEvent } from './room-directory.js';

/** How long an ask waits for its answer by default (ms): a round trip through Redis takes a few. */
export const ANSWER_TIMEOUT_MS = 3000;

/** What a node answered: done, or what refused the action there. */
export interface ModerationAnswer {
  ok: boolean;
  /** Whose error refused it: an EngineError's or a TtsError's (a hold file's), or neither. */
  kind?: 'engine' | 'tts';
  code?: string;
  message?: string;
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  action: string;
  nodeId: string;
}

export class ModerationAsks {
  readonly #pending = new Map<string, Pending>();
  #next = 0;

  constructor(
    private readonly room: string,
    private readonly nodeId: string,
    private readonly publish: (event: RoomEvent) => Promise<void>,
    private readonly answerTimeoutMs = ANSWER_TIMEOUT_MS
  ) {}

  /** Asks node `target.nodeId` for `moderation` of its party `target.party`; settles on its answer. */
  ask(moderation: Moderation, target: { nodeId: string; party: string }): Promise<void> {
    const { action, fileToPlay, talkVolumeDb, listenVolumeDb } = moderation;
    const askId = `${this.nodeId}:${++this.#next}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(askId);
        reject(
          new EngineError(
            'ERR_CLUSTER_UNAVAILABLE',
            `${action}: node '${target.nodeId}' did not answer in ${this.answerTimeoutMs} ms (gone, or no longer in room '${this.room}')`
          )
        );
      }, this.answerTimeoutMs);
      this.#pending.set(askId, { resolve, reject, timer, action, nodeId: target.nodeId });
      this.publish({
        room: this.room,
        type: 'moderate',
        nodeId: this.nodeId,
        target: target.nodeId,
        askId,
        action,
        fileToPlay,
        talkVolumeDb,
        listenVolumeDb,
        party: target.party
      }).catch((error: unknown) => {
        if (!this.#settle(askId)) return;
        reject(
          new EngineError(
            'ERR_CLUSTER_UNAVAILABLE',
            `${action}: could not ask node '${target.nodeId}' for its party '${target.party}'`,
            { cause: error }
          )
        );
      });
    });
  }

  /** An answer came back: settles its ask, if it is this node's and still waiting. */
  answered(askId: string, answer: ModerationAnswer): void {
    const pending = this.#pending.get(askId);
    if (pending === undefined || !this.#settle(askId)) return;
    if (answer.ok) pending.resolve();
    else pending.reject(refusal(answer, pending.action, pending.nodeId));
  }

  /** The room's section closes: asks still waiting reject as its room has ended. */
  close(): void {
    for (const [askId, pending] of [...this.#pending]) {
      this.#settle(askId);
      pending.reject(
        InvalidStateError.forState(`room '${this.room}'`, 'destroyed', ['waiting', 'started'], 'moderate')
      );
    }
  }

  #settle(askId: string): boolean {
    const pending = this.#pending.get(askId);
    if (pending === undefined) return false;
    clearTimeout(pending.timer);
    this.#pending.delete(askId);
    return true;
  }
}

/**
 * The answer of a node that is in the room: `ok`, or what refused it there, its class named so
 * the asking node can throw the same (a party no longer there refuses as one never there does).
 */
export function answerOf(applied: unknown, action: string, room: string, party: string): ModerationAnswer {
  if (applied === true) return { ok: true };
  if (applied === false)
    return {
      ok: false,
      kind: 'engine',
      code: 'ERR_INVALID_ARGUMENT',
      message: `${action}: room '${room}' has no party of channel '${party}' there`
    };
  const kind = applied instanceof EngineError ? 'engine' : applied instanceof TtsError ? 'tts' : undefined;
  return {
    ok: false,
    kind,
    code: kind === undefined ? undefined : (applied as EngineError | TtsError).code,
    message: applied instanceof Error ? applied.message : String(applied)
  };
}

/** The error an answer names, rebuilt on the asking node. */
function refusal(
  { kind, code, message = 'refused' }: ModerationAnswer,
  action: string,
  nodeId: string
): Error {
  if (kind === 'engine' && code === 'ERR_INVALID_ARGUMENT') return new InvalidArgumentError('party', message);
  if (kind === 'engine' && code === 'ERR_INVALID_STATE') return new InvalidStateError(message);
  if (kind === 'engine' && isEngineErrorCode(code)) return new EngineError(code, message);
  if (kind === 'tts' && isTtsErrorCode(code)) return new TtsError(code, message);
  return new EngineError('ERR_CLUSTER_UNAVAILABLE', `${action}: node '${nodeId}' failed: ${message}`);
}

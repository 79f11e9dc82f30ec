/**
 * A moderator's asks to another node and the answers that settle them (moderation-asks.ts), with
 * the room's event channel as a list: each answer rebuilds the error the other node refused with.
 */
import { describe, expect, it } from 'vitest';
import { ModerationAsks, answerOf } from '../../engine/cluster/moderation-asks.js';
import type { RoomEvent } from '../../engine/cluster/room-directory.js';
import {
  EngineError,
  FileAccessError,
  InvalidArgumentError,
  InvalidStateError
} from '../../engine/errors.js';
import { TtsError } from '../../tts/index.js';

function asks(timeoutMs = 60_000): { asks: ModerationAsks; published: RoomEvent[] } {
  const published: RoomEvent[] = [];
  const publish = (event: RoomEvent): Promise<void> => {
    published.push(event);
    return Promise.resolve();
  };
  return { asks: new ModerationAsks('r1', 'node-a', publish, timeoutMs), published };
}

const askIdOf = (event: RoomEvent | undefined): string =>
  event?.type === 'moderate' && event.askId !== undefined ? event.askId : '';

describe('ModerationAsks', () => {
  it('publishes an ask with an id of its own, and resolves on the answer that it was done', async () => {
    const { asks: a, published } = asks();
    const asked = a.ask({ action: 'hold', fileToPlay: 'm.wav' }, { nodeId: 'node-b', party: 'ch2' });
    expect(published).toEqual([
      expect.objectContaining({
        room: 'r1',
        type: 'moderate',
        nodeId: 'node-a',
        target: 'node-b',
        action: 'hold',
        fileToPlay: 'm.wav',
        party: 'ch2'
      })
    ]);
    const second = a.ask({ action: 'mute' }, { nodeId: 'node-b', party: 'ch3' });
    expect(askIdOf(published[1])).not.toBe(askIdOf(published[0]));
    a.answered(askIdOf(published[0]), { ok: true });
    await expect(asked).resolves.toBeUndefined();
    a.answered('node-a:999', { ok: true }); // not an ask of ours: nothing
    a.answered(askIdOf(published[1]), answerOf(false, 'mute', 'r1', 'ch3'));
    const refused = await second.catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidArgumentError);
    expect((refused as Error).message).toBe("mute: room 'r1' has no party of channel 'ch3' there");
  });

  it("rebuilds what refused it on the other node: the engine's errors, the TTS service's, anything else", async () => {
    const { asks: a, published } = asks();
    const refusals = [
      new InvalidStateError("party 4 is not in room 'r1'"),
      new FileAccessError('OUTSIDE_FOLDER', '../x.wav', 'outside the play folders'),
      new TtsError('ERR_FILE_NOT_FOUND', 'no such file: m.wav'),
      new RangeError('odd')
    ];
    const results = refusals.map((error, i) => {
      const asked = a.ask({ action: 'hold' }, { nodeId: 'node-b', party: `ch${i}` });
      a.answered(askIdOf(published[i]), answerOf(error, 'hold', 'r1', `ch${i}`));
      return asked.catch((e: unknown) => e as Error);
    });
    const [state, file, tts, other] = await Promise.all(results);
    expect(state).toBeInstanceOf(InvalidStateError);
    expect((file as EngineError).code).toBe('ERR_FILE_ACCESS');
    expect(tts).toBeInstanceOf(TtsError);
    expect((tts as TtsError).code).toBe('ERR_FILE_NOT_FOUND');
    expect((other as EngineError).code).toBe('ERR_CLUSTER_UNAVAILABLE');
    expect((other as Error).message).toBe("hold: node 'node-b' failed: odd");
    // Read from the network, a code that is none of the engine's is not taken for one.
    const forged = a.ask({ action: 'mute' }, { nodeId: 'node-b', party: 'ch9' });
    a.answered(askIdOf(published[4]), { ok: false, kind: 'engine', code: 'ERR_MADE_UP', message: 'x' });
    expect(((await forged.catch((e: unknown) => e)) as EngineError).code).toBe('ERR_CLUSTER_UNAVAILABLE');
  });

  it('rejects with ERR_CLUSTER_UNAVAILABLE when no answer comes, or the ask cannot be published', async () => {
    const { asks: a } = asks(20);
    const silent = await a
      .ask({ action: 'mute' }, { nodeId: 'node-z', party: 'ch1' })
      .catch((e: unknown) => e);
    expect((silent as EngineError).code).toBe('ERR_CLUSTER_UNAVAILABLE');
    expect((silent as Error).message).toMatch(/node 'node-z' did not answer in 20 ms/);
    const down = new ModerationAsks('r1', 'node-a', () => Promise.reject(new Error('connection lost')));
    const failed = await down
      .ask({ action: 'mute' }, { nodeId: 'node-b', party: 'ch1' })
      .catch((e: unknown) => e);
    expect((failed as EngineError).code).toBe('ERR_CLUSTER_UNAVAILABLE');
    expect((failed as Error).message).toBe("mute: could not ask node 'node-b' for its party 'ch1'");
  });

  it('rejects the asks still waiting when the room closes, and ignores their answers after', async () => {
    const { asks: a, published } = asks();
    const waiting = a.ask({ action: 'remove' }, { nodeId: 'node-b', party: 'ch1' });
    a.close();
    await expect(waiting).rejects.toBeInstanceOf(InvalidStateError);
    a.answered(askIdOf(published[0]), { ok: true });
  });
});

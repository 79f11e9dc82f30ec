/**
 * The name the meet-me room hears for a caller: one its voice (Flite, English) can say, else the
 * user part of the caller's URI, else "a caller". A name in another script synthesises to no
 * samples at all, checked here against the real voice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { callerName } from '../../engine/app/meet-me.js';
import type { UASCallChannel } from '../../engine/index.js';
import { PromptService } from '../../tts/index.js';

const caller = (
  remoteDisplayName: string | undefined,
  remoteUri: string,
  authenticatedUser?: string
): UASCallChannel => ({ remoteDisplayName, remoteUri, authenticatedUser }) as unknown as UASCallChannel;

describe('callerName', () => {
  const tts = new PromptService();
  afterAll(() => tts.close());

  it('keeps a name with Latin letters or digits, accents and other scripts alongside included', () => {
    expect(callerName(caller('Zoë Łukasz', 'sip:1001@example.com'))).toBe('Zoë Łukasz');
    expect(callerName(caller('Ivan Иванов', 'sip:1001@example.com'))).toBe('Ivan Иванов');
    expect(callerName(caller('Агент 007', 'sip:1001@example.com'))).toBe('Агент 007');
  });

  it('announces the username a digest answer proved over the display name and URI the caller wrote', () => {
    expect(callerName(caller('The Chair', 'sip:chair@example.com', 'mallory'))).toBe('mallory');
    expect(callerName(caller('The Chair', 'sip:chair@example.com', 'Иван'))).toBe('a caller');
  });

  it('passes over a name the default voice cannot say, for the URI user or "a caller"', async () => {
    for (const name of ['Иван', '李小龍', 'محمد', 'Ελένη']) {
      // What the room heard before: nothing at all.
      expect(await tts.textToPcm(name, 8000)).toHaveLength(0);
      expect(callerName(caller(name, 'sip:alice@example.com'))).toBe('alice');
      expect(callerName(caller(name, 'sip:%E6%9D%8E@example.com'))).toBe('a caller');
    }
    expect(callerName(caller(undefined, 'sip:Иван@example.com'))).toBe('a caller');
    // Escapes are UTF-8: "Zoë", not "ZoÃ«".
    expect(callerName(caller(undefined, 'sip:Zo%C3%AB@example.com'))).toBe('Zoë');
  });
});

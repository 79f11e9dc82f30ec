/**
 * The engine side of the benchmarks: every incoming call is answered and transferred into the
 * room its Request-URI names, with no prompts. Returns the calls answered and not yet ended.
 */
import { requestedRoom } from './requested-room.js';
import { ConferencePartyMediaSettings, State, type Engine, type UASCallChannel } from '../../engine/index.js';

export function answerIntoRooms(
  engine: Engine,
  options: { fallbackRoom: string; secondsTimeout: number }
): Set<UASCallChannel> {
  const answered = new Set<UASCallChannel>();
  engine.on('call', async (channel) => {
    const room = requestedRoom(channel.requestUri, options.fallbackRoom);
    channel.on('stateChange', ({ state }) => state === State.IDLE && answered.delete(channel));
    try {
      await channel.answer();
      answered.add(channel);
      await channel.transferToConferenceRoom(engine.createChannel(), room, {
        conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false }),
        secondsTimeout: options.secondsTimeout
      });
    } catch {
      await channel.hangUp().catch(() => undefined);
    }
  });
  return answered;
}

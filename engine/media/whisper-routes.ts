/**
 * Which coach's voice goes to which agent in one room (`ConferenceMedia.coach`): the media legs
 * of the room's parties while their calls are in its mix, and each coach's leg pointed at its
 * agent's while both are heard (the coach not muted, neither held). Routed again on every change
 * the room reports: a mute, a hold, a coaching, a leg that comes or goes.
 */
import type { Party } from '../conference/party.js';
import type { MediaLeg } from './media-leg.js';

export class WhisperRoutes {
  readonly #legs = new Map<Party, MediaLeg>();

  /** `party`'s call is in the room's mix through `leg` (undefined: no longer). */
  attach(party: Party, leg: MediaLeg | undefined): void {
    if (leg === undefined) {
      this.#legs.get(party)?.whisperTo(undefined);
      this.#legs.delete(party);
    } else this.#legs.set(party, leg);
    this.route();
  }

  /** Points every coach's leg at its agent's, or at nobody. */
  route(): void {
    for (const [party, leg] of this.#legs) {
      const agent = party.coaching;
      const heard = agent !== undefined && !party.muted && !party.held && !agent.held;
      leg.whisperTo(heard ? this.#legs.get(agent) : undefined);
    }
  }

  close(): void {
    for (const leg of this.#legs.values()) leg.whisperTo(undefined);
    this.#legs.clear();
  }
}

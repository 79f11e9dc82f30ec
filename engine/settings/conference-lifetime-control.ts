/**
 * Whether a party's entry starts its conference room and whether its exit ends it
 * (the spec's `ConferenceLifetimeControl`). Defaults: `startOnEntry: true`,
 * `destroyOnExit: false`.
 */
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../dtmf/dtmf-digit.js';

export interface ConferenceLifetimeControlOptions {
  /** The room starts when this party enters (given a talker is present). Default true. */
  startOnEntry?: boolean;
  /** The room is destroyed, and every other party retrieved, when this party leaves. Default false. */
  destroyOnExit?: boolean;
}

export class ConferenceLifetimeControl {
  readonly startOnEntry: boolean;
  readonly destroyOnExit: boolean;

  constructor(options: ConferenceLifetimeControlOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`ConferenceLifetimeControl options must be an object, got ${describe(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'startOnEntry' && key !== 'destroyOnExit') {
        throw new InvalidArgumentError(
          key,
          `unknown ConferenceLifetimeControl option '${key}'; known: startOnEntry, destroyOnExit`
        );
      }
    }
    this.startOnEntry = flag('startOnEntry', options.startOnEntry, true);
    this.destroyOnExit = flag('destroyOnExit', options.destroyOnExit, false);
    Object.freeze(this);
  }
}

function flag(name: string, value: unknown, defaultValue: boolean): boolean {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
  return value;
}

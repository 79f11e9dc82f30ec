import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../engine/errors.js';
import { ConferenceLifetimeControl } from '../../engine/settings/conference-lifetime-control.js';

describe('ConferenceLifetimeControl', () => {
  it('defaults to startOnEntry true and destroyOnExit false', () => {
    const control = new ConferenceLifetimeControl();
    expect([control.startOnEntry, control.destroyOnExit]).toEqual([true, false]);
  });

  it('keeps the given flags', () => {
    const control = new ConferenceLifetimeControl({ startOnEntry: false, destroyOnExit: true });
    expect([control.startOnEntry, control.destroyOnExit]).toEqual([false, true]);
  });

  it('rejects non-boolean flags with TypeError', () => {
    expect(() => new ConferenceLifetimeControl({ startOnEntry: 'true' as unknown as boolean })).toThrow(
      TypeError
    );
    expect(() => new ConferenceLifetimeControl({ destroyOnExit: 0 as unknown as boolean })).toThrow(
      TypeError
    );
  });

  it('rejects an unknown option name (a snake_case slip)', () => {
    const slip = { start_on_entry: true } as unknown as ConstructorParameters<
      typeof ConferenceLifetimeControl
    >[0];
    expect(() => new ConferenceLifetimeControl(slip)).toThrow(InvalidArgumentError);
  });

  it('is immutable', () => {
    const control = new ConferenceLifetimeControl();
    expect(() => {
      (control as { startOnEntry: boolean }).startOnEntry = false;
    }).toThrow(TypeError);
  });
});

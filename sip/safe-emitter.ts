/**
 * A typed event emitter whose `safeEmit` can never be broken by a listener (after
 * mediasoup's EnhancedEventEmitter). Event names and payloads are types:
 *
 *   class Room extends SafeEmitter<{ started: []; partyLeft: [PartyLeftEvent] }> {}
 *
 * Every listener of an event is called even if an earlier one throws. A listener's error,
 * thrown or (an async listener's) a rejection of the promise it returns, is reported, never
 * swallowed, and never an unhandled rejection that ends the process: to the `'listenerError'` listeners of this emitter if it
 * has any, otherwise to the process as a warning (`process.emitWarning`). A failing
 * `'listenerError'` listener is reported as a warning too, so reporting cannot loop.
 *
 * Listener lists are copy-on-write: `on`/`off` replace an event's array, so `safeEmit` walks
 * the array it found without copying it and allocates nothing (the frame clock emits every 20 ms).
 */

/** Map of event name → tuple of listener arguments. */
export type EventMap = { [event: string]: unknown[] };

type Listener<Args extends unknown[]> = (...args: Args) => void;

/** `once` wrapper → the listener it wraps, so `off(event, listener)` finds it. */
const ONCE_ORIGINAL = new WeakMap<Listener<never>, unknown>();

/** Payload of the built-in `'listenerError'` event. */
export interface ListenerErrorEvent {
  event: string;
  error: unknown;
}

type WithListenerError<E extends EventMap> = E & { listenerError: [ListenerErrorEvent] };

/** A listener that is no function fails here, as Node's EventEmitter has it, not at each emit as a listener error. */
function checkListener(event: PropertyKey, listener: unknown): void {
  if (typeof listener !== 'function')
    throw new TypeError(
      `the '${String(event)}' listener must be a function, got ${listener === null ? 'null' : typeof listener}`
    );
}

export class SafeEmitter<E extends EventMap> {
  readonly #listeners = new Map<keyof WithListenerError<E>, Listener<never>[]>();
  #listenerErrors = 0;
  /** The events it emits, when the subclass names them: `on()` of any other is a TypeError. */
  readonly #events: ReadonlySet<string> | undefined;

  /**
   * `events` (keys of an object that `satisfies Record<keyof E, true>`, so the list follows the
   * type): a JavaScript caller's misspelt event (`on('cal')`) fails at `on()` instead of never firing.
   */
  constructor(events?: Record<keyof E & string, true>) {
    this.#events = events && new Set([...Object.keys(events), 'listenerError']);
  }

  /** How many times a listener of this emitter has thrown. */
  get listenerErrorCount(): number {
    return this.#listenerErrors;
  }

  on<K extends keyof WithListenerError<E>>(event: K, listener: Listener<WithListenerError<E>[K]>): this {
    checkListener(event, listener);
    this.#checkEvent(event);
    const list = this.#listeners.get(event);
    this.#listeners.set(
      event,
      list === undefined ? [listener as Listener<never>] : [...list, listener as Listener<never>]
    );
    return this;
  }

  /** Removes one registration of `listener`, also one made with `once` (the last one added, as Node does). */
  off<K extends keyof WithListenerError<E>>(event: K, listener: Listener<WithListenerError<E>[K]>): this {
    const list = this.#listeners.get(event);
    if (list === undefined) return this;
    let index = list.length - 1;
    while (index >= 0 && list[index] !== listener && ONCE_ORIGINAL.get(list[index]) !== listener) index--;
    if (index < 0) return this;
    if (list.length === 1) this.#listeners.delete(event);
    else this.#listeners.set(event, [...list.slice(0, index), ...list.slice(index + 1)]);
    return this;
  }

  once<K extends keyof WithListenerError<E>>(event: K, listener: Listener<WithListenerError<E>[K]>): this {
    checkListener(event, listener);
    this.#checkEvent(event);
    const wrapper = ((...args: WithListenerError<E>[K]) => {
      this.off(event, wrapper);
      return listener(...args) as unknown; // an async listener's promise, for safeEmit to watch
    }) as Listener<WithListenerError<E>[K]>;
    ONCE_ORIGINAL.set(wrapper as Listener<never>, listener);
    return this.on(event, wrapper);
  }

  listenerCount(event: keyof WithListenerError<E>): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Total listeners over all events: tests use it to prove nothing is left registered. */
  totalListenerCount(): number {
    let total = 0;
    for (const list of this.#listeners.values()) total += list.length;
    return total;
  }

  removeAllListeners(event?: keyof WithListenerError<E>): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  /**
   * Calls every listener of `event` with `args`, in registration order, over a snapshot
   * (listeners added or removed meanwhile take effect from the next emit). Returns whether
   * there was any listener.
   */
  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    const list = this.#listeners.get(event);
    if (list === undefined) return false;
    for (let i = 0; i < list.length; i++) {
      try {
        const result: unknown = (list[i] as unknown as Listener<E[K]>)(...args);
        if (isThenable(result)) result.then(undefined, (error: unknown) => this.#report(event, error));
      } catch (error) {
        this.#report(event, error);
      }
    }
    return true;
  }

  /** Reports an error thrown by a callback the subclass calls itself, as a listener's error is. */
  protected reportListenerError(event: string, error: unknown): void {
    this.#report(event, error);
  }

  /** Where a listener's error goes when no `'listenerError'` listener takes it; subclasses may log it instead. */
  protected unreportedListenerError(event: string, error: unknown): void {
    warn(event, error);
  }

  #checkEvent(event: PropertyKey): void {
    if (this.#events === undefined || (typeof event === 'string' && this.#events.has(event))) return;
    throw new TypeError(
      `${this.constructor.name} has no event ${typeof event === 'string' ? `'${event}'` : String(event)}; its events: ${[...this.#events].join(', ')}`
    );
  }

  #report(event: string, error: unknown): void {
    this.#listenerErrors++;
    const reporters = this.#listeners.get('listenerError');
    if (reporters !== undefined && event !== 'listenerError') {
      for (const reporter of reporters) {
        try {
          const result: unknown = (reporter as unknown as Listener<[ListenerErrorEvent]>)({ event, error });
          if (isThenable(result))
            result.then(undefined, (reporterError: unknown) => warn('listenerError', reporterError));
        } catch (reporterError) {
          warn('listenerError', reporterError);
        }
      }
      return;
    }
    this.unreportedListenerError(event, error);
  }
}

function warn(event: string, error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.emitWarning(`listener of '${event}' threw: ${detail}`, { code: 'UASMEDIA_LISTENER_ERROR' });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DigitCollector } from '../../engine/dtmf/digit-collector.js';
import { ClosedError, InvalidArgumentError, InvalidStateError } from '../../engine/errors.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

/** Tracks a Promise's outcome without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(state, { value, done: true }),
    (error: unknown) => Object.assign(state, { error, done: true })
  );
  return state;
}

describe('DigitCollector.getDigits', () => {
  it('finishes when count digits are collected', async () => {
    const collector = new DigitCollector();
    const result = collector.getDigits({ count: 3 });
    for (const digit of '1234') collector.push(digit);
    await expect(result).resolves.toBe('123');
    expect(collector.buffered).toBe('4');
  });

  it('takes digits pressed before the call first', async () => {
    const collector = new DigitCollector();
    collector.push('9');
    collector.push('8');
    await expect(collector.getDigits({ count: 2 })).resolves.toBe('98');
    expect(collector.buffered).toBe('');
  });

  it('drops earlier digits when clear is set', async () => {
    const collector = new DigitCollector();
    collector.push('9');
    const result = collector.getDigits({ clear: true, count: 1 });
    collector.push('1');
    await expect(result).resolves.toBe('1');
  });

  it('finishes on an end digit and includes it', async () => {
    const collector = new DigitCollector();
    const result = collector.getDigits({ end: '#*' });
    for (const digit of '12*3') collector.push(digit);
    await expect(result).resolves.toBe('12*');
    expect(collector.buffered).toBe('3');
  });

  it('finishes secondsInterdigitTimeout (default 5 s) after the last digit', async () => {
    const collector = new DigitCollector();
    const result = track(collector.getDigits({ count: 10 }));
    collector.push('1');
    await vi.advanceTimersByTimeAsync(4000);
    collector.push('2');
    await vi.advanceTimersByTimeAsync(4999);
    expect(result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(result.value).toBe('12');
  });

  it('waits for the first digit for secondsPredigitsTimeout, resolving empty', async () => {
    const collector = new DigitCollector();
    const result = track(collector.getDigits({ count: 4, secondsPredigitsTimeout: 3 }));
    await vi.advanceTimersByTimeAsync(2999);
    expect(result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(result.value).toBe('');
  });

  it('switches from the predigit to the interdigit timeout after the first digit', async () => {
    const collector = new DigitCollector();
    const result = track(
      collector.getDigits({ count: 4, secondsPredigitsTimeout: 3, secondsInterdigitTimeout: 10 })
    );
    await vi.advanceTimersByTimeAsync(2000);
    collector.push('1');
    await vi.advanceTimersByTimeAsync(9999);
    expect(result.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(result.value).toBe('1');
  });

  it('waits for the first digit without limit when no predigit or overall timeout is set', async () => {
    const collector = new DigitCollector();
    const result = track(collector.getDigits({ count: 1 }));
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3600_000);
    expect(result.done).toBe(false);
    collector.push('5');
    await vi.advanceTimersByTimeAsync(0);
    expect(result.value).toBe('5');
  });

  it('stops at secondsTimeout even while digits keep coming', async () => {
    const collector = new DigitCollector();
    const result = track(collector.getDigits({ secondsTimeout: 2 }));
    for (let i = 0; i < 5; i++) {
      collector.push(String(i));
      await vi.advanceTimersByTimeAsync(500);
    }
    expect(result.value).toBe('0123');
    expect(collector.buffered).toBe('4');
  });

  it('rejects with signal.reason on abort and puts the collected digits back', async () => {
    const collector = new DigitCollector();
    const controller = new AbortController();
    const result = collector.getDigits({ count: 3, signal: controller.signal });
    collector.push('1');
    collector.push('2');
    const reason = new Error('hung up');
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(collector.buffered).toBe('12');
  });

  it('rejects at once for an already aborted signal', async () => {
    const collector = new DigitCollector();
    const signal = AbortSignal.abort(new Error('gone'));
    await expect(collector.getDigits({ signal })).rejects.toThrow('gone');
  });

  it('removes its abort listener and timers whichever way it ends', async () => {
    const collector = new DigitCollector();
    const controller = new AbortController();
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const result = collector.getDigits({
      count: 1,
      secondsTimeout: 60,
      secondsPredigitsTimeout: 30,
      signal: controller.signal
    });
    collector.push('1');
    await result;
    expect(removed).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a second collection while one is pending', async () => {
    const collector = new DigitCollector();
    const first = collector.getDigits({ count: 1 });
    await expect(collector.getDigits({ count: 1 })).rejects.toThrow(InvalidStateError);
    collector.push('1');
    await expect(first).resolves.toBe('1');
  });

  it.each([
    [{ count: 0 }, RangeError],
    [{ count: 1.5 }, RangeError],
    [{ count: '3' as unknown as number }, TypeError],
    [{ secondsTimeout: -1 }, RangeError],
    [{ secondsInterdigitTimeout: Number.NaN }, RangeError],
    // Past Node's longest timer (2^31-1 ms), which would fire at once.
    [{ secondsTimeout: 2_147_483.648 }, RangeError],
    [{ secondsPredigitsTimeout: '5' as unknown as number }, TypeError],
    [{ end: 'x' }, InvalidArgumentError],
    [{ end: '' }, InvalidArgumentError],
    [{ end: 5 as unknown as string }, TypeError],
    [{ clear: 'yes' as unknown as boolean }, TypeError]
  ])('rejects bad options %j', async (options, type) => {
    const collector = new DigitCollector();
    await expect(collector.getDigits(options)).rejects.toThrow(type);
    expect(collector.collecting).toBe(false);
  });

  it('ends a collection at the buffer bound under a flood, and keeps no more than it after an abort', async () => {
    // A pending getDigits({ end: '#' }) took a million digits, and an abort put them all back.
    const collector = new DigitCollector({ maxBuffered: 16 });
    const flood = collector.getDigits({ end: '#' });
    for (let i = 0; i < 1000; i++) collector.push('1');
    await expect(flood).resolves.toBe('1'.repeat(16));
    expect(collector.dropped).toBe(1000 - 16 - 16); // the rest went to the buffer, bounded too
    collector.clearDigits();
    const controller = new AbortController();
    const aborted = collector.getDigits({ end: '#', signal: controller.signal });
    for (let i = 0; i < 10; i++) collector.push('2');
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    await expect(collector.getDigits({ count: 10 })).resolves.toBe('2'.repeat(10));
  });

  it('rejects a pending collection with ClosedError on close, idempotently, and refuses new ones', async () => {
    const collector = new DigitCollector();
    const pending = collector.getDigits({ count: 2, secondsTimeout: 10 });
    collector.close();
    collector.close();
    await expect(pending).rejects.toThrow(ClosedError);
    await expect(collector.getDigits()).rejects.toThrow(ClosedError);
  });
});

describe('DigitCollector buffer', () => {
  it('clearDigits empties the buffer', () => {
    const collector = new DigitCollector();
    collector.push('1');
    collector.clearDigits();
    expect(collector.buffered).toBe('');
  });

  it('ignores anything that is not a DTMF digit', () => {
    const collector = new DigitCollector();
    for (const value of ['x', '12', '', 'E']) collector.push(value);
    collector.push('b');
    expect(collector.buffered).toBe('B');
  });

  it('keeps at most maxBuffered digits, dropping the oldest', () => {
    const collector = new DigitCollector({ maxBuffered: 3 });
    for (const digit of '12345') collector.push(digit);
    expect(collector.buffered).toBe('345');
    expect(collector.dropped).toBe(2);
  });
});

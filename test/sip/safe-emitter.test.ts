import { afterEach, describe, expect, it, vi } from 'vitest';
import { SafeEmitter } from '../../sip/safe-emitter.js';

type Events = { tick: [n: number]; done: [] };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SafeEmitter', () => {
  it('calls listeners in registration order with the payload', () => {
    const emitter = new SafeEmitter<Events>();
    const calls: string[] = [];
    emitter.on('tick', (n) => calls.push(`a${n}`));
    emitter.on('tick', (n) => calls.push(`b${n}`));
    expect(emitter.safeEmit('tick', 1)).toBe(true);
    expect(calls).toEqual(['a1', 'b1']);
  });

  it('refuses a listener that is no function, as Node does, rather than failing at each emit', () => {
    const emitter = new SafeEmitter<Events>();
    expect(() => emitter.on('tick', 42 as never)).toThrow(TypeError);
    expect(() => emitter.once('tick', null as never)).toThrow(TypeError);
    expect(emitter.totalListenerCount()).toBe(0);
  });

  it('returns false when nobody listens', () => {
    expect(new SafeEmitter<Events>().safeEmit('done')).toBe(false);
  });

  it('calls every listener even when one throws, and reports the error to listenerError', () => {
    const emitter = new SafeEmitter<Events>();
    const reported: unknown[] = [];
    const boom = new Error('boom');
    emitter.on('listenerError', ({ event, error }) => reported.push([event, error]));
    emitter.on('tick', () => {
      throw boom;
    });
    const after = vi.fn();
    emitter.on('tick', after);
    emitter.safeEmit('tick', 2);
    expect(after).toHaveBeenCalledWith(2);
    expect(reported).toEqual([['tick', boom]]);
  });

  it("reports an async listener's rejection (on and once) to listenerError, never as an unhandled rejection", async () => {
    const emitter = new SafeEmitter<Events>();
    const reported: unknown[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      emitter.on('listenerError', ({ event, error }) => reported.push([event, (error as Error).message]));
      emitter.on('tick', async (n) => {
        await Promise.resolve();
        throw new Error(`late ${n}`);
      });
      emitter.once('done', async () => {
        await Promise.resolve();
        throw new Error('late once');
      });
      emitter.safeEmit('tick', 3);
      emitter.safeEmit('done');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(reported).toEqual([
        ['tick', 'late 3'],
        ['done', 'late once']
      ]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('reports an async listenerError listener that rejects as a warning, never as an unhandled rejection', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const emitter = new SafeEmitter<Events>();
      emitter.on('listenerError', async () => {
        await Promise.resolve();
        throw new Error('the reporter failed too');
      });
      emitter.on('done', () => {
        throw new Error('first');
      });
      emitter.safeEmit('done');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toContain('the reporter failed too');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('reports as a process warning when no listenerError listener exists, never throwing', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const emitter = new SafeEmitter<Events>();
    emitter.on('done', () => {
      throw new Error('lost?');
    });
    expect(() => emitter.safeEmit('done')).not.toThrow();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toContain('lost?');
  });

  it('reports a throwing listenerError listener as a warning instead of looping', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const emitter = new SafeEmitter<Events>();
    emitter.on('listenerError', () => {
      throw new Error('reporter broke');
    });
    emitter.on('done', () => {
      throw new Error('first');
    });
    emitter.safeEmit('done');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toContain('reporter broke');
  });

  it('runs a once listener once', () => {
    const emitter = new SafeEmitter<Events>();
    const listener = vi.fn();
    emitter.once('tick', listener);
    emitter.safeEmit('tick', 1);
    emitter.safeEmit('tick', 2);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(emitter.totalListenerCount()).toBe(0);
  });

  it('removes a once listener with off before it runs', () => {
    const emitter = new SafeEmitter<Events>();
    const listener = vi.fn();
    emitter.once('done', listener);
    emitter.off('done', listener);
    emitter.safeEmit('done');
    expect(listener).not.toHaveBeenCalled();
  });

  it('removes listeners with off and removeAllListeners', () => {
    const emitter = new SafeEmitter<Events>();
    const listener = vi.fn();
    emitter.on('tick', listener).on('done', listener);
    emitter.off('tick', listener);
    expect(emitter.listenerCount('tick')).toBe(0);
    emitter.removeAllListeners();
    expect(emitter.totalListenerCount()).toBe(0);
  });

  it('emits over a snapshot: a listener removed during an emit still runs this time, one added does not', () => {
    const emitter = new SafeEmitter<Events>();
    const calls: string[] = [];
    const second = () => calls.push('second');
    const late = () => calls.push('late');
    emitter.on('done', () => {
      calls.push('first');
      emitter.off('done', second);
      emitter.on('done', late);
    });
    emitter.on('done', second);
    emitter.safeEmit('done');
    expect(calls).toEqual(['first', 'second']);
  });
});

import { describe, expect, it } from 'vitest';
import { callLogger, createLogger, resolveLogLevel } from '../../engine/observability/logger.js';

/** An in-memory pino destination: every line written, parsed. */
function memoryStream() {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (chunk: string) => void lines.push(JSON.parse(chunk) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('is silent under vitest unless a level is given', () => {
    expect(process.env.VITEST).toBeTruthy();
    const out = memoryStream();
    const log = createLogger({ destination: out });
    expect(log.level).toBe(process.env.UASMEDIA_LOG_LEVEL ? process.env.UASMEDIA_LOG_LEVEL : 'silent');
    if (!process.env.UASMEDIA_LOG_LEVEL) {
      log.error('nobody hears this');
      expect(out.lines).toEqual([]);
    }
  });

  it('writes JSON lines at and above the configured level', () => {
    const out = memoryStream();
    const log = createLogger({ level: 'warn', destination: out });
    log.info('dropped');
    log.warn({ port: 5060 }, 'kept');
    log.error('also kept');
    expect(out.lines.map((l) => l.msg)).toEqual(['kept', 'also kept']);
    expect(out.lines[0]).toMatchObject({ name: 'uasmedia', level: 40, port: 5060 });
  });

  it('takes the level from UASMEDIA_LOG_LEVEL, under the option', () => {
    expect(resolveLogLevel(undefined, { UASMEDIA_LOG_LEVEL: 'debug', VITEST: 'true' })).toBe('debug');
    expect(resolveLogLevel('error', { UASMEDIA_LOG_LEVEL: 'debug' })).toBe('error');
    expect(resolveLogLevel(undefined, { VITEST: 'true' })).toBe('silent');
    expect(resolveLogLevel(undefined, {})).toBe('info');
    expect(resolveLogLevel(undefined, { UASMEDIA_LOG_LEVEL: ' WARN ' })).toBe('warn');
  });

  it('rejects an unknown level, naming where it came from', () => {
    expect(() => createLogger({ level: 'loud' })).toThrow(/EngineOptions.logLevel 'loud'/);
    expect(() => resolveLogLevel(undefined, { UASMEDIA_LOG_LEVEL: 'verbose' })).toThrow(RangeError);
    expect(() => resolveLogLevel(undefined, { UASMEDIA_LOG_LEVEL: 'verbose' })).toThrow(/UASMEDIA_LOG_LEVEL/);
  });
});

describe('callLogger', () => {
  it('binds call id, channel id and room name to every line, also of its children', () => {
    const out = memoryStream();
    const base = createLogger({ level: 'debug', destination: out });
    const log = callLogger(base, { callId: 'a84b4c76e66710@10.0.0.1', channelId: 'ch-7', roomName: 'sales' });
    log.info('joined');
    log.child({ component: 'rtp' }).debug({ ssrc: 1234 }, 'first packet');
    base.info('engine line');
    expect(out.lines).toHaveLength(3);
    for (const line of out.lines.slice(0, 2)) {
      expect(line).toMatchObject({ callId: 'a84b4c76e66710@10.0.0.1', channelId: 'ch-7', roomName: 'sales' });
    }
    expect(out.lines[1]).toMatchObject({ component: 'rtp', ssrc: 1234, msg: 'first packet' });
    expect(out.lines[2]).not.toHaveProperty('callId');
  });

  it('leaves roomName out until the call is in a room', () => {
    const out = memoryStream();
    const log = callLogger(createLogger({ level: 'info', destination: out }), {
      callId: 'c1',
      channelId: 'ch-1'
    });
    log.info('ringing');
    expect(out.lines[0]).toMatchObject({ callId: 'c1', channelId: 'ch-1' });
    expect(out.lines[0]).not.toHaveProperty('roomName');
  });
});

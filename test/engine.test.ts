/**
 * The engine's own lifecycle, over real sockets on loopback: close() and its alias stop(), stop() while start() is still
 * binding, stop() called twice at once, and sipAddresses() while start() binds. Whatever the order, once stop() has resolved nothing
 * is left listening, running or spawned.
 */
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { ClosedError, Engine, EngineError, SipError } from '../engine/index.js';
import { SipUserAgent } from '../sip/index.js';
import { UdpTransport } from '../sip/transport/udp.js';
import { TcpTransport } from '../sip/transport/tcp.js';

function newEngine(): Engine {
  return new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp', 'tcp'] },
    rtp: { minPort: 56800, maxPort: 56899 },
    logLevel: 'silent'
  });
}

/**
 * Sockets and workers of this process (each test file runs in its own worker). A socket's close
 * callback comes before Node's close phase drops its handle from this list (its descriptor is
 * already closed), so the list is read after two event-loop turns.
 */
async function handles(): Promise<string[]> {
  await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
  return process
    .getActiveResourcesInfo()
    .filter((kind) => ['UDPWrap', 'TCPServerWrap', 'TCPSocketWrap', 'MessagePort'].includes(kind))
    .sort();
}

async function expectStopped(engine: Engine, before: string[]): Promise<void> {
  expect(engine.running).toBe(false);
  expect(engine.sipAddresses()).toEqual([]);
  expect(engine.resources().workers).toBe(0);
  expect(await handles()).toEqual(before);
}

describe('Engine lifecycle', () => {
  it('after stop(), sipAddresses() is empty, start() and createChannel() are refused', async () => {
    const before = await handles();
    const engine = newEngine();
    await engine.start();
    expect(engine.sipAddresses().map((a) => a.protocol)).toEqual(['udp', 'tcp']);
    await engine.stop();
    await expectStopped(engine, before);
    await expect(engine.start()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(() => engine.createChannel()).toThrow(/engine is stopped/);
  });

  // STYLE.md: every object has close() and a closed flag; stop() stays as the README's name for it.
  it('close() stops the engine as stop() does: one stop for both, idempotent, closed from the first call', async () => {
    const before = await handles();
    const engine = newEngine();
    expect(engine.closed).toBe(false);
    await engine.start();
    expect(engine.closed).toBe(false);
    const closing = engine.close();
    expect(engine.closed).toBe(true);
    expect(engine.stop()).toBe(closing);
    expect(engine.close()).toBe(closing);
    await closing;
    await expectStopped(engine, before);
    expect(engine.closed).toBe(true);
    await engine.close();
    await engine.stop();
    await expect(engine.start()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(() => engine.createChannel()).toThrow(/engine is stopped/);
  });

  /** `starting` (start()) and `stopping` (a stop() made while it ran) settled: the start was undone. */
  async function expectStartUndone(
    engine: Engine,
    before: string[],
    starting: Promise<void>,
    stopping: () => Promise<void> | undefined
  ): Promise<void> {
    const [started] = await Promise.allSettled([starting]);
    await stopping();
    await expectStopped(engine, before);
    expect(started.status).toBe('rejected');
    expect((started as PromiseRejectedResult).reason).toBeInstanceOf(ClosedError);
    await engine.stop();
  }

  it('stop() in the turn start() begins: start() rejects with ClosedError, nothing is left', async () => {
    const before = await handles();
    const engine = newEngine();
    const starting = engine.start();
    const stopping = engine.stop();
    await expectStartUndone(engine, before, starting, () => stopping);
  });

  it('stop() once start() has bound the SIP sockets: start() closes them and rejects, nothing is left', async () => {
    const before = await handles();
    const engine = newEngine();
    const bind = SipUserAgent.prototype.start;
    let stopping: Promise<void> | undefined;
    const spy = vi.spyOn(SipUserAgent.prototype, 'start').mockImplementation(async function (
      this: SipUserAgent
    ) {
      await bind.call(this);
      expect(this.addresses()).toHaveLength(2);
      stopping = engine.stop();
    });
    try {
      await expectStartUndone(engine, before, engine.start(), () => stopping);
      expect(stopping).toBeDefined();
    } finally {
      spy.mockRestore();
    }
  });

  it('while start() binds, sipAddresses() lists the sockets bound so far', async () => {
    const before = await handles();
    const engine = newEngine();
    const seen: Array<{ binding: string; addresses: ReturnType<Engine['sipAddresses']> }> = [];
    const spies = [UdpTransport, TcpTransport].map((transport) => {
      const listen = transport.prototype.listen;
      return vi.spyOn(transport.prototype, 'listen').mockImplementation(function (this: UdpTransport) {
        seen.push({ binding: this.protocol, addresses: engine.sipAddresses() });
        return listen.call(this);
      });
    });
    try {
      await engine.start();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const udp = engine.sipAddresses().find((a) => a.protocol === 'udp')!;
    // The last attempt (a clash on the shared port number makes another).
    expect(seen.slice(-2)).toEqual([
      { binding: 'udp', addresses: [] },
      { binding: 'tcp', addresses: [udp] }
    ]);
    await engine.stop();
    await expectStopped(engine, before);
  });

  it('a second stop() while the first runs resolves only once the engine has stopped', async () => {
    const before = await handles();
    const engine = newEngine();
    await engine.start();
    expect(engine.sipAddresses()).not.toEqual([]);
    const first = engine.stop();
    const second = engine.stop();
    await second;
    await expectStopped(engine, before);
    await first;
    await engine.stop();
  });

  // Node's message names only an address ("listen EADDRINUSE ... 127.0.42.7:8088"): a SIP port
  // and a WebSocket port in use read alike, and neither said which option to change.
  it('start() on a port in use names the option that chose it, SIP or WebSocket, and leaves nothing', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.42.7', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const before = await handles();
      const sip = new Engine({ sip: { host: '127.0.42.7', port, transports: ['tcp'] }, logLevel: 'silent' });
      const sipError = await sip.start().catch((error: unknown) => error);
      expect(sipError).toBeInstanceOf(SipError);
      // Node's error stays reachable, as the metrics port's ERR_LISTEN_FAILED has it.
      expect(sipError).toMatchObject({ code: 'ERR_SIP_TRANSPORT', cause: { code: 'EADDRINUSE' } });
      expect((sipError as Error).message).toMatch(
        new RegExp(
          `^cannot bind SIP transports: EngineOptions\\.sip\\.port \\(tcp\\): .*EADDRINUSE.*:${port}$`
        )
      );
      const ws = new Engine({
        sip: { host: '127.0.42.7', port: 0, transports: ['udp'] },
        webSocket: { port },
        logLevel: 'silent'
      });
      const wsError = await ws.start().catch((error: unknown) => error);
      expect(wsError).toMatchObject({ code: 'ERR_SIP_TRANSPORT', cause: { code: 'EADDRINUSE' } });
      expect((wsError as Error).message).toMatch(
        new RegExp(
          `^cannot bind SIP transports: EngineOptions\\.webSocket\\.port \\(ws\\): .*EADDRINUSE.*:${port}$`
        )
      );
      await Promise.all([sip.stop(), ws.stop()]);
      await expectStopped(sip, before);
      await expectStopped(ws, before);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  // start() bound only SIP: with an rtp.host this machine does not have, it succeeded and every
  // call then failed before the application heard of it ("could not take an incoming call" in
  // the log, bind EADDRNOTAVAIL).
  it('start() with an rtp.host this machine cannot bind rejects naming the option, and leaves nothing', async () => {
    // A documentation address (RFC 5737) this machine does not have: test hosts do use them.
    const own = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
    const foreign = ['198.51.100.7', '203.0.113.7', '192.0.2.254'].find((address) => !own.includes(address))!;
    const before = await handles();
    const engine = new Engine({
      sip: { host: '127.0.42.7', port: 0, transports: ['udp'] },
      rtp: { host: foreign },
      logLevel: 'silent'
    });
    const error = await engine.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'ERR_LISTEN_FAILED', cause: { code: 'EADDRNOTAVAIL' } });
    expect((error as Error).message).toMatch(`EngineOptions.rtp.host ${foreign} cannot be bound for RTP: `);
    // A failed start leaves an engine that will never run: closed, before anyone calls close().
    expect(engine.closed).toBe(true);
    await engine.stop();
    await expectStopped(engine, before);
  });
});

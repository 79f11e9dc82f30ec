/**
 * A Kamailio dispatcher for a cluster test, running the repository's dispatcher configuration
 * (engine/cluster/kamailio/dispatcher.cfg) in the foreground on one loopback address (UDP and TCP, and TLS when given certificate files), with a
 * dispatcher list of the given engines in a fresh temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatcherArgs } from '../../engine/cluster/kamailio/dispatcher-command.js';

/** A port free on `host` for both UDP and TCP right now (Kamailio listens on both, and cannot be asked for port 0). */
async function freePort(host: string): Promise<number> {
  for (;;) {
    const udp = dgram.createSocket('udp4');
    udp.bind(0, host);
    await once(udp, 'listening');
    const { port } = udp.address();
    const tcp = net.createServer();
    const tcpFree = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, host, () => resolve(true));
    });
    udp.close();
    if (tcpFree) {
      await new Promise((resolve) => tcp.close(resolve));
      return port;
    }
  }
}

export class Kamailio {
  private output = '';
  private constructor(
    readonly host: string,
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
    /** Callers over TLS, when started with certificate files. */
    readonly tlsPort?: number
  ) {
    const keep = (chunk: Buffer): void => {
      this.output += chunk.toString();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /**
   * `algorithm`: the dispatcher's, 4 round-robin (default) or 3 by Request-URI user (the room);
   * `pingIntervalSeconds`: how often each engine is probed with OPTIONS (the configuration's 5 s).
   */
  static async start(
    host: string,
    engines: string[],
    algorithm: 3 | 4 = 4,
    pingIntervalSeconds?: number,
    tlsFiles?: { certPath: string; keyPath: string },
    /** Browsers too: SIP over WebSocket on the TCP listener (kamailio-websocket-modules), from pages of these origins. */
    websocket?: { origins: string[] }
  ): Promise<Kamailio> {
    const dir = await mkdtemp(join(tmpdir(), 'uasm-kamailio-'));
    const list = join(dir, 'dispatcher.list');
    await writeFile(list, engines.map((e) => `1 sip:${e} 0 0\n`).join(''));
    const port = await freePort(host);
    let tls: { port: number; certPath: string; keyPath: string } | undefined;
    if (tlsFiles) {
      let tlsPort = await freePort(host);
      while (tlsPort === port) tlsPort = await freePort(host);
      tls = { port: tlsPort, ...tlsFiles };
    }
    const child = spawn(
      'kamailio',
      dispatcherArgs({
        host,
        port,
        listFile: list,
        algorithm: String(algorithm),
        runDir: dir,
        pingIntervalSeconds,
        tls,
        websocket: websocket !== undefined,
        websocketOrigins: websocket?.origins
      }),
      { stdio: ['ignore', 'pipe', 'pipe'] }
    );
    const kamailio = new Kamailio(host, port, dir, child, tls?.port);
    const until = Date.now() + 10000;
    while (!kamailio.output.includes('Listening on')) {
      if (child.exitCode !== null) throw new Error(`kamailio exited: ${kamailio.output.slice(-2000)}`);
      if (Date.now() > until)
        throw new Error(`kamailio did not start within 10 s: ${kamailio.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500)); // its workers open the socket after the banner
    return kamailio;
  }

  /** What Kamailio logged (its xlog lines say where each INVITE went). */
  get log(): string {
    return this.output;
  }

  /** Where a browser's SIP over WebSocket reaches it (the TCP listener), when started with `websocket`. */
  get wsUrl(): string {
    return `ws://${this.host}:${this.port}`;
  }

  uri(user: string): string {
    return `sip:${user}@${this.host}:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

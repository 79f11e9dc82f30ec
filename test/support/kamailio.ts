/**
 * Runs Kamailio (Debian's kamailio package) in the foreground as a test peer: one UDP listener
 * on 127.0.0.1 and a port that was free a moment ago, its runtime files in a temporary
 * directory, its log kept for assertions and failure messages, and a hard kill in cleanup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';

export class Kamailio {
  readonly dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
  log = '';
  private child: ChildProcess | undefined;
  port = 0;

  /** Starts Kamailio with `cfg` and waits until it listens. */
  async start(cfg: string): Promise<this> {
    this.port = await freeUdpPort();
    const child = spawn(
      'kamailio',
      [
        '-f',
        cfg,
        '-DD',
        '-E',
        '-l',
        `udp:127.0.0.1:${this.port}`,
        '-Y',
        this.dir,
        '-w',
        this.dir,
        '-m',
        '32',
        '-M',
        '8'
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] }
    );
    this.child = child;
    const append = (d: Buffer): void => {
      this.log += d.toString();
      if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    await waitFor(
      () =>
        (/Listening on/.test(this.log) && /processes \(at least\)/.test(this.log)) || child.exitCode !== null,
      15000
    );
    if (child.exitCode !== null)
      throw new Error(`kamailio exited at start (${child.exitCode}):\n${this.log.slice(-3000)}`);
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * A throw-away redis-server for a test: unix socket only (no TCP port), no persistence, in a
 * fresh temporary folder; `stop()` kills it and removes the folder. `pause(ms)` freezes it the
 * way an overloaded or partitioned Redis looks to its clients (CLIENT PAUSE).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export class RedisServer {
  private constructor(
    readonly socketPath: string,
    private readonly dir: string,
    private process: ChildProcess
  ) {}

  static async start(): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'uasm-redis-'));
    const socketPath = join(dir, 'r.sock');
    const server = new RedisServer(socketPath, dir, RedisServer.spawn(socketPath, dir));
    await server.opened();
    return server;
  }

  private static spawn(socketPath: string, dir: string): ChildProcess {
    return spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', socketPath, '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' }
    );
  }

  private async opened(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      try {
        await access(this.socketPath);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    await this.stop();
    throw new Error('redis-server did not open its socket within 5 s');
  }

  /** Kills the server (SIGKILL): its clients see it gone. `restart()` brings it back, empty. */
  async crash(): Promise<void> {
    await this.kill();
    await rm(this.socketPath, { force: true });
  }

  /** A new server on the same socket, with no data (as one restarted without persistence). */
  async restart(): Promise<void> {
    await this.crash();
    this.process = RedisServer.spawn(this.socketPath, this.dir);
    await this.opened();
  }

  /** A plain client for the test's own checks. */
  client(): Redis {
    return new Redis(this.socketPath, { maxRetriesPerRequest: 1 });
  }

  /** Every key in the server. */
  async keys(pattern = '*'): Promise<string[]> {
    const client = this.client();
    try {
      return await client.keys(pattern);
    } finally {
      client.disconnect();
    }
  }

  /** One key's value, or null. */
  async get(key: string): Promise<string | null> {
    const client = this.client();
    try {
      return await client.get(key);
    } finally {
      client.disconnect();
    }
  }

  /** Freezes every client's commands for `ms` (CLIENT PAUSE ALL). */
  async pause(ms: number): Promise<void> {
    const client = this.client();
    try {
      await client.call('CLIENT', 'PAUSE', String(ms), 'ALL');
    } finally {
      client.disconnect();
    }
  }

  /** SIGSTOP: the server hangs as a stalled host's does, its clock (and so its keys' expiry) running on; `thaw()` continues it. */
  freeze(): void {
    this.process.kill('SIGSTOP');
  }

  thaw(): void {
    this.process.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async kill(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((r) => this.process.once('exit', r));
      this.process.kill('SIGKILL');
      await exited;
    }
  }
}

/**
 * Captures UDP on the loopback interface with tcpdump (root or CAP_NET_RAW) into a pcap file in
 * a temp dir, for a test to read back with `readPcapUdp`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcapUdp, type UdpRecord } from './rtp-pcap.js';

export class UdpCapture {
  private readonly dir = mkdtempSync(join(tmpdir(), 'uasmedia-capture-'));
  private readonly file = join(this.dir, 'capture.pcap');
  private child: ChildProcess | undefined;

  /** Starts capturing UDP to or from ports `minPort`..`maxPort` on lo; resolves once tcpdump listens. */
  async start(minPort: number, maxPort: number): Promise<void> {
    const child = spawn(
      'tcpdump',
      ['-i', 'lo', '-U', '-n', '-s', '0', '-w', this.file, `udp and portrange ${minPort}-${maxPort}`],
      { stdio: ['ignore', 'ignore', 'pipe'] }
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let errors = '';
      child.stderr?.on('data', (d: Buffer) => {
        errors += d.toString();
        if (/listening on/.test(errors)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`tcpdump exited with ${code}: ${errors}`)));
    });
  }

  /** Stops tcpdump and returns the UDP datagrams it saw. */
  async stop(): Promise<UdpRecord[]> {
    const child = this.child;
    if (!child) return [];
    this.child = undefined;
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    return readPcapUdp(this.file);
  }

  async close(): Promise<void> {
    await this.stop().catch(() => []);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs SIPp (the `sipp` binary from Debian's sip-tester) as a bounded child process for
 * interop tests: in a temporary directory, with stdin disabled, a hard kill on timeout, and
 * the error trace returned so a failure says what SIPp saw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SippResult {
  code: number | null;
  stdout: string;
  errors: string;
}

const running = new Set<ChildProcess>();

/** Kills every SIPp still running (call from afterEach/afterAll). */
export function killAllSipp(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** A UDP port that was free a moment ago (for SIPp's -p and -mp). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * Runs SIPp in a fresh temporary directory; `prepare` may put files there first (SIPp's built-in
 * uac_pcap scenario, for one, plays `pcap/g711a.pcap` relative to its working directory).
 */
export function runSipp(
  args: string[],
  hardTimeoutMs = 15_000,
  prepare?: (dir: string) => void
): { done: Promise<SippResult>; child: ChildProcess } {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  prepare?.(dir);
  const child = spawn('sipp', [...args, '-nostdin', '-trace_err', '-timeout_error'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe']
  });
  running.add(child);
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stdout += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), hardTimeoutMs);
  const done = new Promise<SippResult>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      let errors = '';
      try {
        for (const f of readdirSync(dir))
          if (f.endsWith('_errors.log')) errors += readFileSync(join(dir, f), 'utf8');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      resolve({ code, stdout: stdout.slice(-4000), errors: errors.slice(-4000) });
    });
  });
  return { done, child };
}

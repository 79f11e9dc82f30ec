/**
 * A process that swaps `<folder>/<name>` between a real directory and a symlink to `outside`, as
 * fast as it can, with atomic renames: the race an attacker who may write in a play or record
 * folder runs against the engine's check-then-open.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const FLIPPER = `
const fs = require('node:fs');
const [folder, name, outside] = process.argv.slice(1);
const sub = folder + '/' + name, real = folder + '/.' + name + '-real', link = folder + '/.' + name + '-link';
fs.mkdirSync(real, { recursive: true });
try { fs.symlinkSync(outside, link); } catch {}
const swap = (from, to) => { try { fs.renameSync(from, to); } catch {} };
process.stdout.write('ready\\n');
for (;;) { swap(real, sub); swap(sub, real); swap(link, sub); swap(sub, link); }
`;

export class FolderFlipper {
  private constructor(private readonly child: ChildProcess) {}

  /** Starts flipping `<folder>/<name>`; resolves once the flipper runs. `<folder>/.<name>-real` is the real directory. */
  static async start(folder: string, name: string, outside: string): Promise<FolderFlipper> {
    const child = spawn(process.execPath, ['-e', FLIPPER, folder, name, outside], {
      stdio: ['ignore', 'pipe', 'inherit']
    });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.stdout?.once('data', () => resolve());
    });
    return new FolderFlipper(child);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

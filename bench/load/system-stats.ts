/**
 * What the rest of the machine did during a measurement window, read from Linux /proc: how busy
 * the engine's core was in total (so CPU taken by neighbours on a shared host shows up next to
 * the engine's own share) and how many UDP datagrams the kernel dropped for full socket buffers
 * (RcvbufErrors in /proc/net/snmp, host-wide). Elsewhere every reading is `undefined`.
 */
import { readFileSync } from 'node:fs';

export interface SystemSample {
  /** Jiffies of the given core: busy (everything but idle and iowait) and total. */
  coreBusy?: number;
  coreTotal?: number;
  /** Of the busy jiffies: the hypervisor ran something else on this virtual CPU (steal)… */
  coreSteal?: number;
  /** …and the kernel ran interrupts and softirqs (packet delivery). */
  coreIrq?: number;
  /** The engine's main thread (/proc/PID/schedstat): ns on the CPU, ns runnable but waiting for it. */
  threadRunNs?: number;
  threadWaitNs?: number;
  udpRcvbufErrors?: number;
  udpInErrors?: number;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function sampleSystem(core: number, pid?: number): SystemSample {
  const out: SystemSample = {};
  const sched =
    pid === undefined ? undefined : read(`/proc/${pid}/schedstat`)?.trim().split(/\s+/).map(Number);
  if (sched && sched.length >= 2) {
    out.threadRunNs = sched[0];
    out.threadWaitNs = sched[1];
  }
  const line = read('/proc/stat')
    ?.split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  if (line) {
    // user nice system idle iowait irq softirq steal …
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    out.coreTotal = total;
    out.coreBusy = total - f[3] - f[4];
    out.coreIrq = f[5] + f[6];
    out.coreSteal = f[7];
  }
  const udp = read('/proc/net/snmp')
    ?.split('\n')
    .filter((l) => l.startsWith('Udp:'));
  if (udp && udp.length >= 2) {
    const names = udp[0].split(/\s+/);
    const values = udp[1].split(/\s+/).map(Number);
    out.udpRcvbufErrors = values[names.indexOf('RcvbufErrors')];
    out.udpInErrors = values[names.indexOf('InErrors')];
  }
  return out;
}

/** Percent of the core that was busy between two samples (all processes), or undefined. */
export function coreBusyPct(a: SystemSample, b: SystemSample): number | undefined {
  if (
    a.coreBusy === undefined ||
    b.coreBusy === undefined ||
    a.coreTotal === undefined ||
    b.coreTotal === undefined
  )
    return undefined;
  const total = b.coreTotal - a.coreTotal;
  return total <= 0 ? undefined : (100 * (b.coreBusy - a.coreBusy)) / total;
}

export function delta(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : b - a;
}

/** Percent of the core's time between two samples spent on `part` (a jiffy counter), or undefined. */
export function corePct(a: SystemSample, b: SystemSample, part: 'coreSteal' | 'coreIrq'): number | undefined {
  const x = delta(a[part], b[part]);
  const total = delta(a.coreTotal, b.coreTotal);
  return x === undefined || total === undefined || total <= 0 ? undefined : (100 * x) / total;
}

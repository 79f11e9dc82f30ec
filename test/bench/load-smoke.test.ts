/**
 * The load benchmark's harness works (no speed is asserted: that is the benchmark's job): a quick
 * run places real calls from a separate process, RTP flows both ways through the engine, and the
 * report has its fields.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot, runBenchScript } from '../support/bench-script.js';

const dir = join(repositoryRoot, 'bench/results');

/** Runs `npm run bench:load` with `flags`: its output and the report it wrote. */
async function runBench(flags: string[]): Promise<{ report: string; json: unknown }> {
  const started = Date.now();
  const { code, out } = await runBenchScript('bench/load/index.ts', flags);
  expect(code, out).toBe(0);
  const report = readdirSync(dir)
    .filter((f) => /^load-.*\.json$/.test(f) && statSync(join(dir, f)).mtimeMs >= started)
    .sort()
    .pop();
  expect(report, out).toBeDefined();
  return { report: report as string, json: JSON.parse(readFileSync(join(dir, report as string), 'utf8')) };
}

describe('npm run bench:load harness', () => {
  it('runs a quick ramp and writes a report with packets flowing both ways, and a stall trace of the profiled window', async () => {
    const { report, json: parsed } = await runBench(['--quick', '--kernels=wasm', '--profile=6']);
    const json = parsed as {
      steps: Array<{
        participants: number;
        rooms: number;
        packetsSentByCallers: number;
        packetsIntoEngine: number;
        packetsOutOfEngine: number;
        packetsReceivedByCallers: number;
        deliveredToCallersPct: number;
        cpuUsPerParticipantFrame: number;
        latenessMsP99: number;
        passed: boolean;
      }>;
      summary: Array<{ kernels: string; maxParticipantsPassed: number }>;
      profile: {
        step: { participants: number };
        stalls: {
          ticks: number;
          lateTicks: number;
          windowMs: number;
          threads: Array<{ name: string; runMs: number }>;
          eventLoopDelayMs: { p99: number };
        };
      };
    };
    expect(json.steps.map((s) => s.participants)).toEqual([6, 12]);
    expect(json.steps.map((s) => s.rooms)).toEqual([2, 4]);
    for (const step of json.steps) {
      // 2 s windows at 50 packets/s per participant, each way, counted at both ends: at least a
      // quarter of that arrives even on a badly overloaded host (speed is not asserted here).
      for (const count of [
        step.packetsSentByCallers,
        step.packetsIntoEngine,
        step.packetsOutOfEngine,
        step.packetsReceivedByCallers
      ]) {
        expect(count).toBeGreaterThan(step.participants * 50);
      }
      expect(step.deliveredToCallersPct).toBeGreaterThan(0);
      expect(step.cpuUsPerParticipantFrame).toBeGreaterThan(0);
      expect(Number.isFinite(step.latenessMsP99)).toBe(true);
      expect(typeof step.passed).toBe('boolean');
    }
    expect(readdirSync(dir)).toContain(report.replace(/\.json$/, '.svg'));
    expect(json.summary[0].kernels).toBe('wasm');
    // The profiled window's trace: every tick of the 2 s window is there, lined up with a profile
    // whose samples cover it, and the engine's main thread is among the threads that ran.
    const stalls = json.profile.stalls;
    expect(json.profile.step.participants).toBe(6);
    expect(stalls.ticks).toBeGreaterThan(50);
    expect(stalls.lateTicks).toBeLessThanOrEqual(stalls.ticks);
    expect(stalls.windowMs).toBeGreaterThan(1000);
    expect(stalls.threads.length).toBeGreaterThan(0);
    expect(stalls.threads[0].runMs).toBeGreaterThan(0);
    expect(Number.isFinite(stalls.eventLoopDelayMs.p99)).toBe(true);
  }, 90_000);

  it('runs the two floors in two rounds: the DSP floor mixes its calls in rooms, both carry RTP both ways, and the ceiling is the ratio of their bests', async () => {
    const { json: parsed } = await runBench(['--quick', '--kernels=dsp-floor,io-floor', '--rounds=2']);
    const json = parsed as {
      steps: Array<{
        kernels: string;
        participants: number;
        rooms: number;
        packetsIntoEngine: number;
        packetsReceivedByCallers: number;
        passed: boolean;
        round: number;
      }>;
      summary: Array<{ kernels: string; maxParticipantsPassed: number }>;
      ceilingOverFloor?: { dspFloor: number; floor: number; ratio: number; hostMoved: boolean };
      rounds: Array<{ round: number; capacities: Record<string, number> }>;
    };
    // The flavours take turns: each round runs both ramps before the next round starts.
    expect(json.steps.map((s) => `${s.round} ${s.kernels}`)).toEqual([
      '1 dsp-floor',
      '1 dsp-floor',
      '1 io-floor',
      '1 io-floor',
      '2 dsp-floor',
      '2 dsp-floor',
      '2 io-floor',
      '2 io-floor'
    ]);
    const steps = (kernels: string) => json.steps.filter((s) => s.kernels === kernels);
    // The DSP floor puts callers in the rooms their Request-URIs name; the I/O floor has one per call.
    expect(steps('dsp-floor').map((s) => [s.participants, s.rooms])).toEqual([
      [6, 2],
      [12, 4],
      [6, 2],
      [12, 4]
    ]);
    expect(steps('io-floor').map((s) => [s.participants, s.rooms])).toEqual([
      [6, 6],
      [12, 12],
      [6, 6],
      [12, 12]
    ]);
    for (const step of json.steps) {
      expect(step.packetsIntoEngine).toBeGreaterThan(step.participants * 50);
      expect(step.packetsReceivedByCallers).toBeGreaterThan(step.participants * 50);
    }
    // Each round's capacity is what passed in that round; the summary keeps the best round's.
    const passedIn = (kernels: string, round: number) =>
      Math.max(
        0,
        ...steps(kernels)
          .filter((s) => s.round === round && s.passed)
          .map((s) => s.participants)
      );
    expect(json.rounds.map((r) => r.capacities)).toEqual(
      [1, 2].map((round) => ({
        'dsp-floor': passedIn('dsp-floor', round),
        'io-floor': passedIn('io-floor', round)
      }))
    );
    const passed = (kernels: string) =>
      json.summary.find((s) => s.kernels === kernels)?.maxParticipantsPassed ?? 0;
    expect(passed('dsp-floor')).toBe(Math.max(passedIn('dsp-floor', 1), passedIn('dsp-floor', 2)));
    expect(passed('io-floor')).toBe(Math.max(passedIn('io-floor', 1), passedIn('io-floor', 2)));
    if (passed('io-floor') > 0) {
      expect(json.ceilingOverFloor).toMatchObject({
        dspFloor: passed('dsp-floor'),
        floor: passed('io-floor'),
        ratio: passed('dsp-floor') / passed('io-floor'),
        hostMoved: passed('dsp-floor') > passed('io-floor')
      });
    }
  }, 180_000);
});

/**
 * Channel ids are unique beyond one process: a second process (a restart, another node of a
 * cluster) numbers its channels from 1 again, and its ids must still differ from this one's, as
 * an application may keep them (a record of calls keyed by them).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';

const run = promisify(execFile);
const ID = /^ch-([0-9a-f]{12})-(\d+)$/;

/** The ids of the first two channels of an engine in a process of its own. */
async function idsInAnotherProcess(): Promise<string[]> {
  const script =
    "const { Engine } = await import('./engine/index.ts');" +
    "const engine = new Engine({ sip: { host: '127.0.0.1', port: 0, transports: ['udp'] } });" +
    'await engine.start();' +
    'console.log(JSON.stringify([engine.createChannel().id, engine.createChannel().id]));' +
    'await engine.stop();' +
    'process.exit(0);';
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url).pathname
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
}

const engine = new Engine({ sip: { host: '127.0.0.1', port: 0, transports: ['udp'] } });

beforeAll(async () => {
  await engine.start();
});

afterAll(async () => {
  await engine.stop();
});

describe('channel ids', () => {
  it('differ within a process, and from those of another process that counts from 1 again', async () => {
    const here = [engine.createChannel().id, engine.createChannel().id];
    const there = await idsInAnotherProcess();
    for (const id of [...here, ...there]) expect(id).toMatch(ID);
    expect(here[0]).not.toBe(here[1]);
    expect(ID.exec(here[0])![1]).toBe(ID.exec(here[1])![1]); // one tag a process
    expect(there.map((id) => ID.exec(id)![2])).toEqual(['1', '2']); // numbered from 1 there
    expect(ID.exec(there[0])![1]).not.toBe(ID.exec(here[0])![1]);
    expect(new Set([...here, ...there]).size).toBe(4);
  });
});

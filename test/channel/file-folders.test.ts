/**
 * Calls touch the disk only inside the folders the application configured: `playFile` reads
 * inside the play folders, `record` writes inside the record folder, and with none configured
 * both refuse with FileAccessError. Before, `playFile` without a prompt folder opened any
 * readable file and `record()` wrote anywhere.
 */
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Engine,
  FileAccessError,
  State,
  type EngineOptions,
  type UASCallChannel
} from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

const fixtures = fileURLToPath(new URL('../fixtures/wav/', import.meta.url));
let root: string;
let engine: Engine | undefined;
const phones: TonePhone[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'uasmedia-files-'));
  await mkdir(join(root, 'prompts'));
  await mkdir(join(root, 'recordings'));
  await mkdir(join(root, 'elsewhere'));
  await copyFile(join(fixtures, 'tone-8000-s16.wav'), join(root, 'prompts', 'tone.wav'));
  await copyFile(join(fixtures, 'tone-8000-s16.wav'), join(root, 'elsewhere', 'secret.wav'));
  await writeFile(join(root, 'elsewhere', 'keep.txt'), 'untouched');
  await symlink(join(root, 'elsewhere', 'secret.wav'), join(root, 'prompts', 'link-out.wav'));
  await symlink(join(root, 'elsewhere'), join(root, 'recordings', 'dir-out'));
  await symlink(join(root, 'elsewhere', 'keep.txt'), join(root, 'recordings', 'planted.wav'));
  // A hard link: another name for a file outside, which writing it would overwrite.
  await writeFile(join(root, 'elsewhere', 'precious.txt'), 'untouched');
  await link(join(root, 'elsewhere', 'precious.txt'), join(root, 'recordings', 'hard-linked.wav'));
});

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await engine?.stop();
  engine = undefined;
});

afterAll(() => rm(root, { recursive: true, force: true }));

async function answered(options: EngineOptions): Promise<UASCallChannel> {
  const e = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 44000, maxPort: 44099 },
    ...options
  });
  engine = e;
  const channels: UASCallChannel[] = [];
  e.on('call', (channel) => {
    channels.push(channel);
    void channel.answer();
  });
  await e.start();
  const phone = await TonePhone.create({ toneHz: 500 });
  phones.push(phone);
  await phone.call(`sip:files@127.0.0.1:${e.sipAddresses()[0].port}`);
  await waitFor(() => channels[0]?.state === State.ANSWERED, 10_000);
  return channels[0];
}

describe('the file sandbox', () => {
  it('with no folders configured, playFile and record refuse with FileAccessError and touch nothing', async () => {
    const channel = await answered({});
    const play = await channel.playFile(join(root, 'prompts', 'tone.wav')).catch((e: unknown) => e);
    expect(play).toBeInstanceOf(FileAccessError);
    expect(play).toMatchObject({ code: 'ERR_FILE_ACCESS', reason: 'NOT_CONFIGURED' });
    const target = join(root, 'elsewhere', 'written.wav');
    await expect(channel.record(target, { maxSeconds: 0.2 })).rejects.toMatchObject({
      code: 'ERR_FILE_ACCESS',
      reason: 'NOT_CONFIGURED'
    });
    await expect(channel.record('relative.wav', { maxSeconds: 0.2 })).rejects.toBeInstanceOf(FileAccessError);
    expect(existsSync(target)).toBe(false);
    expect(channel.state).toBe(State.ANSWERED);
  }, 30_000);

  it('plays inside the play folder and refuses .., absolute paths elsewhere and symlinks out', async () => {
    const channel = await answered({ files: { playFolders: [join(root, 'prompts')] } });
    await channel.playFile('tone.wav');
    for (const path of [
      '../elsewhere/secret.wav',
      join(root, 'elsewhere', 'secret.wav'),
      'link-out.wav',
      '/etc/hostname'
    ]) {
      await expect(channel.playFile(path), path).rejects.toMatchObject({
        code: 'ERR_FILE_ACCESS',
        reason: 'OUTSIDE_FOLDER'
      });
    }
    expect(channel.state).toBe(State.ANSWERED);
  }, 30_000);

  it('records inside the record folder and refuses .., absolute paths elsewhere, a symlinked directory, a planted symlink and a hard link', async () => {
    const channel = await answered({ files: { recordFolder: join(root, 'recordings') } });
    await channel.record('call.wav', { maxSeconds: 0.5 });
    expect((await readFile(join(root, 'recordings', 'call.wav'))).subarray(0, 4).toString()).toBe('RIFF');
    for (const path of [
      '../elsewhere/out.wav',
      join(root, 'elsewhere', 'out.wav'),
      'dir-out/out.wav',
      'planted.wav',
      'hard-linked.wav',
      '/tmp/uasmedia-out.wav'
    ]) {
      await expect(channel.record(path, { maxSeconds: 0.2 }), path).rejects.toMatchObject({
        code: 'ERR_FILE_ACCESS',
        reason: 'OUTSIDE_FOLDER'
      });
    }
    expect(existsSync(join(root, 'elsewhere', 'out.wav'))).toBe(false);
    expect(existsSync('/tmp/uasmedia-out.wav')).toBe(false);
    expect(await readFile(join(root, 'elsewhere', 'keep.txt'), 'utf8')).toBe('untouched');
    expect(await readFile(join(root, 'elsewhere', 'precious.txt'), 'utf8')).toBe('untouched');
    expect(channel.state).toBe(State.ANSWERED);
  }, 30_000);
});

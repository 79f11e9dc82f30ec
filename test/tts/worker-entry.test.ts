/**
 * The synthesis worker starts both from TypeScript sources (vitest, tsx) and from compiled
 * JavaScript (dist/): the latter is checked by compiling tts/ with tsc and running it in plain node.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { workerEntry } from '../../tts/worker-pool.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('synthesis worker entry', () => {
  it('is the .ts file through a tsx bootstrap from source, and the sibling .js file from dist', () => {
    const fromDist = workerEntry('file:///app/dist/tts/worker-pool.js');
    expect(fromDist.protocol).toBe('data:');
    const distBootstrap = decodeURIComponent(fromDist.href.slice('data:text/javascript,'.length));
    expect(distBootstrap).toContain('await import("file:///app/dist/tts/synthesis-worker.js")');
    expect(distBootstrap).not.toMatch(/tsx/);
    const fromSource = workerEntry(pathToFileURL(join(ROOT, 'tts', 'worker-pool.ts')).href);
    expect(fromSource.protocol).toBe('data:');
    const bootstrap = decodeURIComponent(fromSource.href.slice('data:text/javascript,'.length));
    expect(bootstrap).toContain(pathToFileURL(join(ROOT, 'tts', 'synthesis-worker.ts')).href);
    expect(bootstrap).toMatch(/tsx\/dist\/esm\/api\/index\.mjs/);
  });

  it('imports the entry by a file URL that keeps spaces in the path escaped', () => {
    const moduleUrl = pathToFileURL('/srv/my app/node_modules/uasmedia/dist/tts/worker-pool.js').href;
    const bootstrap = decodeURIComponent(workerEntry(moduleUrl).href.slice('data:text/javascript,'.length));
    expect(bootstrap).toContain(
      'await import("file:///srv/my%20app/node_modules/uasmedia/dist/tts/synthesis-worker.js")'
    );
  });

  const outDir = join(ROOT, 'build', `test-tts-dist-${process.pid}`);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  // tsc and a plain node process on a loaded host: minutes, not seconds. The timeout only catches a hang.
  it('synthesizes from compiled JavaScript in plain node', { timeout: 300_000 }, async () => {
    mkdirSync(outDir, { recursive: true });
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const sources = ['tts/index.ts', 'tts/synthesis-worker.ts', 'tts/espeak-ng.d.ts'].map((f) =>
      join(ROOT, f)
    );
    await run(
      process.execPath,
      [
        tsc,
        '--outDir',
        outDir,
        '--rootDir',
        ROOT,
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--target',
        'ES2022',
        '--strict',
        '--skipLibCheck',
        '--types',
        'node',
        ...sources
      ],
      { cwd: ROOT }
    );
    const compiled = join(outDir, 'tts', 'index.js');
    expect(existsSync(join(outDir, 'tts', 'synthesis-worker.js'))).toBe(true);
    const script = `
      const { PromptService } = await import(${JSON.stringify(pathToFileURL(compiled).href)});
      const service = new PromptService({});
      const pcm = await service.textToPcm('george has joined', 8000);
      await service.close();
      console.log(JSON.stringify({ samples: pcm.length }));`;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT
    });
    expect(stderr).not.toMatch(/WASI is an experimental feature/);
    const { samples } = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { samples: number };
    expect(samples).toBeGreaterThan(0.5 * 8000);
  });
});

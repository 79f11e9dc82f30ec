/**
 * The package as its users get it: `npm pack` (which builds through the `prepack` lifecycle) on a
 * copy of the repository, the tarball installed into an application outside the repository in a
 * folder with spaces in its name, the README's embedding example run there with plain `node`
 * taking a real SIPp call into a room, and a strict TypeScript consumer compiled against the
 * installed declarations.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPeer } from '../support/peers.js';
import { killAllSipp, runSipp } from '../support/sip-sipp.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const haveSipp = hasPeer('sipp');

/** What `npm pack --json` says about the tarball. */
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string; size: number }>;
}

/** Top-level entries of the repository the build does not need. */
const NOT_COPIED = new Set(['node_modules', 'dist', 'build', 'test', 'bench', 'coverage', '.git']);

let work: string;
let source: string;
let app: string;
let packed: PackResult;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'uasmedia pack '));
  // A copy, so the build of the tarball never rewrites the dist/ or build/ other test files read.
  source = join(work, 'source tree');
  cpSync(ROOT, source, {
    recursive: true,
    filter: (path) => {
      const top = relative(ROOT, path).split(sep)[0];
      return !NOT_COPIED.has(top);
    }
  });
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: source,
    maxBuffer: 64 * 1024 * 1024
  });
  packed = (JSON.parse(stdout.slice(stdout.indexOf('['))) as PackResult[])[0];
  console.log(
    `npm pack: ${packed.filename} ${packed.size} B packed, ${packed.unpackedSize} B unpacked, ${packed.entryCount} files`
  );

  app = join(work, 'my app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed.filename)], {
    cwd: app,
    maxBuffer: 64 * 1024 * 1024
  });
}, 600_000);

afterAll(() => {
  killAllSipp();
  for (const child of children) child.kill('SIGKILL');
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds what runs and nothing else', () => {
    const paths = packed.files.map((f) => f.path).sort();
    for (const needed of [
      'package.json',
      'README.md',
      'LICENSE',
      'build/uasmedia.wasm',
      'build/join-page/index.html',
      'build/join-page/join-page.js',
      'dist/engine/index.js',
      'dist/engine/index.d.ts',
      'dist/tts/synthesis-worker.js',
      'dist/sip/index.js'
    ]) {
      expect(paths).toContain(needed);
    }
    const strays = paths.filter(
      (p) =>
        ![
          'package.json',
          'README.md',
          'LICENSE',
          'build/uasmedia.wasm',
          'build/join-page/index.html',
          'build/join-page/join-page.js'
        ].includes(p) && !/^dist\/(engine|sip|tts)\/.+\.(js|d\.ts)$/.test(p)
    );
    expect(strays).toEqual([]);
    expect(
      paths.filter((p) =>
        // npm run cluster's script runs from the repository: its Kamailio configuration is not packed.
        /(^|\/)(test|bench|assembly)\/|\.map$|^dist\/engine\/(main|app\/|webrtc\/join-page\/|cluster\/(start-cluster|rtp-port-slices|kamailio\/))/.test(
          p
        )
      )
    ).toEqual([]);
  });

  it('holds no module that nothing in it loads: each is reached from the entry or the worker, or only declares types', () => {
    // rtp-port-slices.js (npm run cluster's, which runs from the repository) was packed although
    // nothing packed imports it.
    const installed = join(app, 'node_modules', 'uasmedia');
    const packedJs = packed.files
      .map((f) => f.path)
      .filter((p) => p.endsWith('.js') && p.startsWith('dist/'));
    const reached = new Set<string>();
    const queue = ['dist/engine/index.js', 'dist/tts/synthesis-worker.js'];
    for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
      if (reached.has(path)) continue;
      reached.add(path);
      const text = readFileSync(join(installed, path), 'utf8');
      for (const [, target] of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+\.js)'/g))
        queue.push(posix.join(posix.dirname(path), target));
    }
    const typesOnly = (path: string): boolean =>
      /^\s*export \{\};\s*$/.test(
        readFileSync(join(installed, path), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      );
    expect(packedJs.filter((path) => !reached.has(path) && !typesOnly(path))).toEqual([]);
  });

  it('has no build tools among its dependencies', () => {
    const manifest = JSON.parse(
      readFileSync(join(app, 'node_modules', 'uasmedia', 'package.json'), 'utf8')
    ) as {
      dependencies: Record<string, string>;
    };
    for (const tool of ['assemblyscript', 'tsx', 'typescript', 'vitest', 'eslint', 'prettier']) {
      expect(Object.keys(manifest.dependencies)).not.toContain(tool);
    }
  });

  it.skipIf(!haveSipp)(
    "runs the README's embedding example in plain node: answers a SIPp call, speaks, hears it talk in a room, stops",
    async () => {
      copyFileSync(join(FIXTURES, 'package', 'app.mjs'), join(app, 'app.mjs'));
      const child = spawn(process.execPath, ['app.mjs'], {
        cwd: app,
        env: { ...process.env, SIP_PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe']
      });
      children.add(child);
      let output = '';
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const port = await new Promise<number>((resolve, reject) => {
        const onData = (data: Buffer): void => {
          output += data.toString();
          const found = /call sip:meeting@127\.0\.0\.1:(\d+)/.exec(output);
          if (found) resolve(Number(found[1]));
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) =>
          reject(new Error(`the app exited (${code}) before listening:\n${output}`))
        );
      });
      const sipp = runSipp(
        [
          '-sf',
          join(FIXTURES, 'sipp', 'uac-pcap-until-bye.xml'),
          '-s',
          'meeting',
          `127.0.0.1:${port}`,
          '-m',
          '1',
          '-timeout',
          '60s'
        ],
        90_000,
        (dir) => symlinkSync('/usr/share/sip-tester', join(dir, 'pcap'))
      );
      const code = await exited;
      children.delete(child);
      const result = await sipp.done;
      expect(code, output).toBe(0);
      expect(output).toContain('someone is talking in the meeting');
      expect(result.code, result.errors || result.stdout).toBe(0);
    },
    120_000
  );

  it('runs from its TypeScript sources under tsx in a folder with spaces too: the WebAssembly core and a synthesis worker', async () => {
    const script = [
      "import { Engine } from './engine/index.ts';",
      "import { PromptService } from './tts/index.ts';",
      "const engine = new Engine({ sip: { host: '127.0.0.1', port: 0, transports: ['udp'] }, logLevel: 'silent' });",
      'await engine.start();',
      'const service = new PromptService({});',
      "const pcm = await service.textToPcm('george has joined', 8000);",
      'await service.close();',
      'await engine.stop();',
      'console.log(JSON.stringify({ samples: pcm.length }));'
    ].join('\n');
    writeFileSync(join(source, 'from-sources.mts'), script);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'from-sources.mts'], { cwd: source });
    const { samples } = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { samples: number };
    expect(samples).toBeGreaterThan(0.5 * 8000);
  });

  it('opens only its entry: ESM import and require() from CommonJS work, deep imports do not', async () => {
    const probe = async (code: string): Promise<string> => {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: app });
      return stdout.trim();
    };
    expect(await probe("const m = await import('uasmedia'); console.log(typeof m.Engine);")).toBe('function');
    const deep = await probe(
      "try { await import('uasmedia/dist/sip/index.js'); console.log('opened'); } catch (e) { console.log(e.code); }"
    );
    expect(deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    // A CommonJS application: Node 20.19 and later load an ES module by require() (one without
    // top-level await); earlier ones say ERR_REQUIRE_ESM, which names the cure (import()).
    writeFileSync(
      join(app, 'app.cjs'),
      [
        "const { Engine, State } = require('uasmedia');",
        "const engine = new Engine({ sip: { host: '127.0.0.1', port: 0, transports: ['udp'] }, logLevel: 'silent' });",
        'engine.start().then(async () => {',
        '  const port = engine.sipAddresses()[0].port;',
        '  await engine.stop();',
        '  console.log(JSON.stringify({ port: port > 0, answered: State.ANSWERED }));',
        '});'
      ].join('\n')
    );
    const { stdout, stderr } = await run(process.execPath, ['app.cjs'], { cwd: app });
    expect(JSON.parse(stdout.trim())).toEqual({ port: true, answered: 'ANSWERED' });
    expect(stderr).toBe('');
  });

  it('type-checks a strict TypeScript consumer against the installed declarations', async () => {
    copyFileSync(join(FIXTURES, 'package', 'consumer.ts'), join(app, 'consumer.ts'));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      '--noEmit',
      '--strict',
      // What `tsc --init` sets; the declarations themselves are checked too (no skipLibCheck).
      '--exactOptionalPropertyTypes',
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--target',
      'ES2022'
    ];
    args.push('--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'consumer.ts');
    const result = await run(process.execPath, [tsc, ...args], { cwd: app }).catch(
      (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? String(error), stderr: '' })
    );
    expect(result.stdout).toBe('');
  });

  it("type-checks a CommonJS TypeScript consumer without esModuleInterop: no error in the package's declarations", async () => {
    copyFileSync(join(FIXTURES, 'package', 'consumer.ts'), join(app, 'consumer.ts'));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['--noEmit', '--strict', '--module', 'commonjs', '--target', 'ES2022'];
    args.push('--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'consumer.ts');
    const result = await run(process.execPath, [tsc, ...args], { cwd: app }).catch(
      (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? String(error), stderr: '' })
    );
    // Default imports of Node's modules (import dgram from 'node:dgram') had failed in four of
    // them (TS1192). pino's own declarations need esModuleInterop or skipLibCheck (README).
    const ours = result.stdout.split('\n').filter((line) => line.includes('node_modules/uasmedia/'));
    expect(ours).toEqual([]);
  });

  it('is the embedding example the README shows', () => {
    const example = readFileSync(join(FIXTURES, 'package', 'app.mjs'), 'utf8').trim();
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(example);
  });
});

/**
 * `npm run bench`: runs every suite in bench/suites/ (each exports `run(report)`), prints one table
 * and writes bench/results/latest.json for later comparison. `npm run bench -- mixer` runs only
 * the suites whose file name contains "mixer".
 */
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import os from 'node:os';
import { BenchReport } from './report.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2];
const report = new BenchReport();
const files = (await readdir(join(here, 'suites')))
  .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
  .sort();
for (const file of files) {
  if (filter && !file.includes(filter)) continue;
  const suite = (await import(pathToFileURL(join(here, 'suites', file)).href)) as {
    run(report: BenchReport): Promise<void>;
  };
  console.error(`running ${file} ...`);
  await suite.run(report);
}
console.log(report.toTable());
await mkdir(join(here, 'results'), { recursive: true });
const out = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model,
  rows: report.rows
};
await writeFile(join(here, 'results', 'latest.json'), JSON.stringify(out, null, 2));
console.log(`wrote bench/results/latest.json (${report.rows.length} rows)`);

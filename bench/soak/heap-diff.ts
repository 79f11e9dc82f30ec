/**
 * `node --import tsx bench/soak/heap-diff.ts A.heapsnapshot B.heapsnapshot [C.heapsnapshot] [--top 30] [--paths 3]`
 *
 * Two snapshots: the classes (constructors, closures by function, strings, code, ...) whose
 * count, self size or retained size changed most from A to B.
 * Three snapshots of one process (object ids are stable within it): the objects allocated
 * between A and B that are still alive in C, code and the JIT's data apart from the rest, the
 * rest by class with the shortest retainer path of a few of each. With A, B and C taken idle
 * (`npm run soak -- --phases 2 --heap-snapshots 1`), that is what the calls kept.
 */
import { HeapSnapshot, keptObjects } from '../../test/support/heap-snapshot.js';

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const top = flag('--top', 30);
const paths = flag('--paths', 3);
if (files.length < 2 || files.length > 3) {
  console.error('usage: heap-diff.ts A.heapsnapshot B.heapsnapshot [C.heapsnapshot] [--top 30] [--paths 3]');
  process.exit(2);
}

const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
const signed = (x: string): string => (x.startsWith('-') ? x : `+${x}`);

interface ClassStats {
  count: number;
  self: number;
  retained: number;
}

function byClass(snapshot: HeapSnapshot): Map<string, ClassStats> {
  const retained = snapshot.retainedByClass();
  const out = new Map<string, ClassStats>();
  const dominators = snapshot.dominatorTree();
  for (let i = 0; i < snapshot.nodeCount; i++) {
    if (dominators[i] < 0) continue; // unreachable: gone at the next GC
    const name = snapshot.classNames[snapshot.classes[i]];
    let s = out.get(name);
    if (!s) out.set(name, (s = { count: 0, self: 0, retained: retained[snapshot.classes[i]] }));
    s.count++;
    s.self += snapshot.selfSizes[i];
  }
  return out;
}

/** Reachable objects and their size, without 'native' nodes (backing stores, WASM memory: outside the JS heap). */
function total(snapshot: HeapSnapshot): { count: number; self: number; native: number } {
  const dominators = snapshot.dominatorTree();
  let count = 0;
  let self = 0;
  let native = 0;
  for (let i = 0; i < snapshot.nodeCount; i++) {
    if (dominators[i] < 0) continue;
    if (snapshot.typeName(i) === 'native') native += snapshot.selfSizes[i];
    else {
      count++;
      self += snapshot.selfSizes[i];
    }
  }
  return { count, self, native };
}

console.log(`reading ${files.join(', ')}`);
const snapshots = files.map((f) => new HeapSnapshot(f));
for (const [k, s] of snapshots.entries()) {
  const t = total(s);
  console.log(
    `${String.fromCharCode(65 + k)}: ${t.count} reachable objects, ${kb(t.self)} KB in the JS heap; native ${kb(t.native)} KB`
  );
}

const [a, b] = snapshots;
const last = snapshots[snapshots.length - 1];

/** Reachable self size by V8 node type: code, strings, objects, arrays, shapes ("object shape"), ... */
function byType(snapshot: HeapSnapshot): Map<string, { count: number; self: number }> {
  const dominators = snapshot.dominatorTree();
  const out = new Map<string, { count: number; self: number }>();
  for (let i = 0; i < snapshot.nodeCount; i++) {
    if (dominators[i] < 0) continue;
    const type = snapshot.typeName(i);
    const t = out.get(type) ?? { count: 0, self: 0 };
    t.count++;
    t.self += snapshot.selfSizes[i];
    out.set(type, t);
  }
  return out;
}
{
  const typesA = byType(a);
  const typesLast = byType(last);
  console.log(`\nby V8 node type, A → ${String.fromCharCode(64 + snapshots.length)}`);
  const types = [...new Set([...typesA.keys(), ...typesLast.keys()])];
  const delta = (t: string): number => (typesLast.get(t)?.self ?? 0) - (typesA.get(t)?.self ?? 0);
  for (const t of types.sort((p, q) => delta(q) - delta(p))) {
    const x = typesA.get(t) ?? { count: 0, self: 0 };
    const y = typesLast.get(t) ?? { count: 0, self: 0 };
    console.log(
      `${t.padEnd(20)} ${`${x.count} → ${y.count}`.padStart(18)} ${signed(String(y.count - x.count)).padStart(8)} ${`${kb(x.self)} → ${kb(y.self)} KB`.padStart(24)} ${signed(kb(y.self - x.self)).padStart(10)}`
    );
  }
}
const statsA = byClass(a);
const statsLast = byClass(last);
const rows = [...new Set([...statsA.keys(), ...statsLast.keys()])].map((name) => {
  const x = statsA.get(name) ?? { count: 0, self: 0, retained: 0 };
  const y = statsLast.get(name) ?? { count: 0, self: 0, retained: 0 };
  return { name, x, y, dSelf: y.self - x.self, dCount: y.count - x.count };
});
const header = `${'class'.padEnd(64)} ${'count'.padStart(16)} ${'Δcount'.padStart(8)} ${'self KB'.padStart(20)} ${'Δself KB'.padStart(10)} ${'retained KB'.padStart(22)}`;
const printRows = (title: string, list: typeof rows): void => {
  console.log(`\n${title}\n${header}`);
  for (const r of list) {
    console.log(
      `${r.name.slice(0, 64).padEnd(64)} ${`${r.x.count} → ${r.y.count}`.padStart(16)} ${signed(String(r.dCount)).padStart(8)} ${`${kb(r.x.self)} → ${kb(r.y.self)}`.padStart(20)} ${signed(kb(r.dSelf)).padStart(10)} ${`${kb(r.x.retained)} → ${kb(r.y.retained)}`.padStart(22)}`
    );
  }
};
const last2 = String.fromCharCode(64 + snapshots.length);
printRows(
  `A → ${last2}: classes by growth of self size`,
  [...rows].sort((p, q) => q.dSelf - p.dSelf).slice(0, top)
);
printRows(
  `A → ${last2}: classes by growth of count`,
  [...rows].sort((p, q) => q.dCount - p.dCount).slice(0, top)
);
printRows(
  `${last2}: largest classes by self size`,
  [...rows].sort((p, q) => q.y.self - p.y.self).slice(0, Math.min(15, top))
);
printRows(
  `A → ${last2}: classes that shrank most`,
  [...rows].sort((p, q) => p.dSelf - q.dSelf).slice(0, Math.min(10, top))
);

if (snapshots.length === 3) {
  const c = snapshots[2];
  // Code and what only code holds (feedback, allocation sites, deoptimization data) fill up once
  // per function as it gets hot; shapes and V8's internal arrays likewise. The rest is the program's.
  const owned = c.ownedByCode();
  const bookkeeping = new Set(['code', 'object shape', 'hidden', 'synthetic']);
  const all = keptObjects(a, b, c);
  const kept = new Map<number, number[]>();
  let jitCount = 0;
  let jitBytes = 0;
  let keptCount = 0;
  let keptBytes = 0;
  for (const [cls, nodes] of all) {
    const own = nodes.filter((i) => owned[i] === 0 && !bookkeeping.has(c.typeName(i)));
    for (const i of nodes) {
      if (owned[i] === 0 && !bookkeeping.has(c.typeName(i))) continue;
      jitCount++;
      jitBytes += c.selfSizes[i];
    }
    if (own.length === 0) continue;
    kept.set(cls, own);
    keptCount += own.length;
    for (const i of own) keptBytes += c.selfSizes[i];
  }
  console.log(
    `\nallocated between A and B and alive in C: code, shapes and what only code holds ${jitCount} objects, ${kb(jitBytes)} KB; the rest ${keptCount} objects, ${kb(keptBytes)} KB, by class:`
  );
  const keptRows = [...kept.entries()]
    .map(([cls, nodes]) => ({ cls, nodes, bytes: nodes.reduce((sum, i) => sum + c.selfSizes[i], 0) }))
    .sort((p, q) => q.bytes - p.bytes)
    .slice(0, top);
  for (const r of keptRows) {
    console.log(`\n${c.classNames[r.cls]}: ${r.nodes.length} objects, ${kb(r.bytes)} KB`);
    const step = Math.max(1, Math.floor(r.nodes.length / paths));
    for (let k = 0; k < paths && k * step < r.nodes.length; k++) {
      const node = r.nodes[k * step];
      const label = c.typeName(node).endsWith('string') ? ` "${c.nodeName(node).slice(0, 60)}"` : '';
      console.log(`  ${kb(c.selfSizes[node])} KB${label}: ${c.retainerPath(node)}`);
    }
  }
}

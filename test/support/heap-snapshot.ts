/**
 * Reads a V8 `.heapsnapshot` (the JSON that `v8.writeHeapSnapshot` writes) into flat arrays and
 * computes what DevTools shows: each object's class, its dominator and its retained size, and the
 * shortest path from the roots to it. `keptObjects` compares three snapshots of one process.
 * Used by the heap retention test and by `bench/soak/heap-diff.ts`.
 */
import { readFileSync } from 'node:fs';

interface RawSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
    root_index?: number;
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export class HeapSnapshot {
  readonly nodeCount: number;
  /** Per node: its V8 object id, stable across snapshots of one process. */
  readonly ids: Float64Array;
  readonly selfSizes: Float64Array;
  /** Per node: index into `classNames`. */
  readonly classes: Int32Array;
  readonly classNames: string[] = [];
  readonly typeNames: string[];
  readonly types: Uint8Array;
  readonly names: Int32Array;
  readonly strings: string[];
  /** Edges of node i are firstEdge[i] .. firstEdge[i + 1] - 1. */
  readonly firstEdge: Int32Array;
  readonly edgeTargets: Int32Array;
  readonly edgeTypes: Uint8Array;
  readonly edgeNames: Int32Array;
  readonly edgeTypeNames: string[];
  private retained?: Float64Array;
  private dominators?: Int32Array;
  private parents?: { node: Int32Array; edge: Int32Array };

  constructor(file: string) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
    const meta = raw.snapshot.meta;
    const nf = meta.node_fields.length;
    const ef = meta.edge_fields.length;
    const field = (name: string): number => meta.node_fields.indexOf(name);
    const [fType, fName, fId, fSize, fEdges] = ['type', 'name', 'id', 'self_size', 'edge_count'].map(field);
    const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((n) => meta.edge_fields.indexOf(n));
    this.typeNames = meta.node_types[0];
    this.edgeTypeNames = meta.edge_types[0];
    this.strings = raw.strings;
    const n = raw.nodes.length / nf;
    this.nodeCount = n;
    this.ids = new Float64Array(n);
    this.selfSizes = new Float64Array(n);
    this.classes = new Int32Array(n);
    this.types = new Uint8Array(n);
    this.names = new Int32Array(n);
    this.firstEdge = new Int32Array(n + 1);
    const classIndex = new Map<string, number>();
    let edge = 0;
    for (let i = 0; i < n; i++) {
      const base = i * nf;
      this.types[i] = raw.nodes[base + fType];
      this.names[i] = raw.nodes[base + fName];
      this.ids[i] = raw.nodes[base + fId];
      this.selfSizes[i] = raw.nodes[base + fSize];
      this.firstEdge[i] = edge;
      edge += raw.nodes[base + fEdges];
      const name = this.className(i);
      let c = classIndex.get(name);
      if (c === undefined) {
        c = this.classNames.length;
        classIndex.set(name, c);
        this.classNames.push(name);
      }
      this.classes[i] = c;
    }
    this.firstEdge[n] = edge;
    this.edgeTargets = new Int32Array(edge);
    this.edgeTypes = new Uint8Array(edge);
    this.edgeNames = new Int32Array(edge);
    for (let e = 0; e < edge; e++) {
      this.edgeTypes[e] = raw.edges[e * ef + eType];
      this.edgeNames[e] = raw.edges[e * ef + eName];
      this.edgeTargets[e] = raw.edges[e * ef + eTo] / nf;
    }
  }

  /** DevTools' grouping: objects by constructor, closures by function, strings together. */
  private className(i: number): string {
    const type = this.typeNames[this.types[i]];
    const name = this.strings[this.names[i]];
    if (type === 'object' || type === 'native') return name;
    if (type === 'closure') return `(closure) ${name || '(anonymous)'}`;
    if (type.endsWith('string')) return '(string)';
    if (type === 'number' || type === 'bigint' || type === 'symbol' || type === 'regexp') return `(${type})`;
    return `(${type}) ${name.length > 60 ? `${name.slice(0, 57)}...` : name}`;
  }

  nodeName(i: number): string {
    return this.strings[this.names[i]];
  }

  typeName(i: number): string {
    return this.typeNames[this.types[i]];
  }

  edgeName(e: number): string {
    const type = this.edgeTypeNames[this.edgeTypes[e]];
    return type === 'element' || type === 'hidden'
      ? `[${this.edgeNames[e]}]`
      : this.strings[this.edgeNames[e]];
  }

  private isWeak(e: number): boolean {
    const type = this.edgeTypeNames[this.edgeTypes[e]];
    return type === 'weak' || type === 'shortcut';
  }

  /** Immediate dominators (Cooper, Harvey and Kennedy's iteration over reverse postorder). */
  dominatorTree(): Int32Array {
    if (this.dominators) return this.dominators;
    const n = this.nodeCount;
    const order = new Int32Array(n).fill(-1); // postorder number
    const byOrder = new Int32Array(n);
    let count = 0;
    const stack = new Int32Array(n);
    const edgeCursor = new Int32Array(n);
    const visited = new Uint8Array(n);
    let top = 0;
    stack[top++] = 0;
    visited[0] = 1;
    edgeCursor[0] = this.firstEdge[0];
    while (top > 0) {
      const v = stack[top - 1];
      let pushed = false;
      while (edgeCursor[v] < this.firstEdge[v + 1]) {
        const e = edgeCursor[v]++;
        if (this.isWeak(e)) continue;
        const w = this.edgeTargets[e];
        if (visited[w]) continue;
        visited[w] = 1;
        edgeCursor[w] = this.firstEdge[w];
        stack[top++] = w;
        pushed = true;
        break;
      }
      if (!pushed) {
        top--;
        order[v] = count;
        byOrder[count++] = v;
      }
    }
    // Predecessors (reachable ones, strong edges) in compressed form.
    const predCount = new Int32Array(n + 1);
    for (let v = 0; v < n; v++) {
      if (order[v] < 0) continue;
      for (let e = this.firstEdge[v]; e < this.firstEdge[v + 1]; e++) {
        if (!this.isWeak(e)) predCount[this.edgeTargets[e] + 1]++;
      }
    }
    for (let v = 0; v < n; v++) predCount[v + 1] += predCount[v];
    const preds = new Int32Array(predCount[n]);
    const fill = predCount.slice(0, n);
    for (let v = 0; v < n; v++) {
      if (order[v] < 0) continue;
      for (let e = this.firstEdge[v]; e < this.firstEdge[v + 1]; e++) {
        if (!this.isWeak(e)) preds[fill[this.edgeTargets[e]]++] = v;
      }
    }
    // Dominators by postorder number; -1 unknown.
    const idom = new Int32Array(count).fill(-1);
    const rootOrder = order[0];
    idom[rootOrder] = rootOrder;
    const intersect = (a: number, b: number): number => {
      while (a !== b) {
        while (a < b) a = idom[a];
        while (b < a) b = idom[b];
      }
      return a;
    };
    for (let changed = true; changed;) {
      changed = false;
      for (let k = count - 2; k >= 0; k--) {
        const v = byOrder[k];
        let d = -1;
        for (let p = predCount[v]; p < predCount[v + 1]; p++) {
          const u = order[preds[p]];
          if (idom[u] < 0) continue;
          d = d < 0 ? u : intersect(u, d);
        }
        if (d >= 0 && idom[k] !== d) {
          idom[k] = d;
          changed = true;
        }
      }
    }
    const dominators = new Int32Array(n).fill(-1);
    for (let k = 0; k < count; k++) dominators[byOrder[k]] = byOrder[idom[k]];
    this.dominators = dominators;
    // Retained sizes: children before parents is postorder of the DFS tree, which also holds for
    // the dominator tree (a dominator is an ancestor in every DFS tree).
    const retained = new Float64Array(n);
    for (let k = 0; k < count; k++) {
      const v = byOrder[k];
      retained[v] += this.selfSizes[v];
      if (v !== 0) retained[dominators[v]] += retained[v];
    }
    this.retained = retained;
    return dominators;
  }

  retainedSizes(): Float64Array {
    this.dominatorTree();
    return this.retained!;
  }

  /**
   * Retained size per class as DevTools' summary counts it: the sum over objects of the class that
   * no other object of the same class dominates.
   */
  retainedByClass(): Float64Array {
    const dominators = this.dominatorTree();
    const retained = this.retainedSizes();
    const out = new Float64Array(this.classNames.length);
    for (let v = 0; v < this.nodeCount; v++) {
      if (dominators[v] < 0) continue;
      const c = this.classes[v];
      let d = v === 0 ? -1 : dominators[v];
      let nested = false;
      for (let steps = 0; d > 0 && steps < 10_000; steps++) {
        if (this.classes[d] === c) {
          nested = true;
          break;
        }
        d = dominators[d];
      }
      if (!nested) out[c] += retained[v];
    }
    return out;
  }

  /**
   * 1 for objects that only code and the JIT's data hold (a node of type 'code' — feedback
   * vectors, allocation sites, deoptimization data — dominates them), or are such nodes.
   */
  ownedByCode(): Uint8Array {
    const dominators = this.dominatorTree();
    const code = this.typeNames.indexOf('code');
    const state = new Uint8Array(this.nodeCount); // 0 unknown, 1 owned, 2 not
    const path: number[] = [];
    for (let v = 0; v < this.nodeCount; v++) {
      let d = v;
      while (state[d] === 0 && d > 0 && dominators[d] >= 0 && this.types[d] !== code) {
        path.push(d);
        d = dominators[d];
      }
      const owned =
        state[d] === 1 || (state[d] === 0 && this.types[d] === code && dominators[d] >= 0) ? 1 : 2;
      if (state[d] === 0) state[d] = owned;
      for (const p of path) state[p] = owned;
      path.length = 0;
    }
    for (let v = 0; v < this.nodeCount; v++) if (state[v] === 2) state[v] = 0;
    return state;
  }

  /** Shortest strong path from the root to `node`, as `name (type) -edge-> ...`. */
  retainerPath(node: number): string {
    if (!this.parents) {
      const n = this.nodeCount;
      const parentNode = new Int32Array(n).fill(-1);
      const parentEdge = new Int32Array(n).fill(-1);
      const queue = new Int32Array(n);
      let head = 0;
      let tail = 0;
      queue[tail++] = 0;
      parentNode[0] = 0;
      while (head < tail) {
        const v = queue[head++];
        for (let e = this.firstEdge[v]; e < this.firstEdge[v + 1]; e++) {
          if (this.isWeak(e)) continue;
          const w = this.edgeTargets[e];
          if (parentNode[w] >= 0) continue;
          parentNode[w] = v;
          parentEdge[w] = e;
          queue[tail++] = w;
        }
      }
      this.parents = { node: parentNode, edge: parentEdge };
    }
    const steps: string[] = [];
    for (let v = node; v !== 0 && this.parents.node[v] >= 0 && steps.length < 40; v = this.parents.node[v]) {
      steps.push(`-${this.edgeName(this.parents.edge[v])}-> ${this.classNames[this.classes[v]]}`);
    }
    if (this.parents.node[node] < 0) return '(unreachable by strong edges)';
    return ['(root)', ...steps.reverse()].join(' ');
  }
}

/**
 * The objects of `c` allocated between snapshots `a` and `b` of the same process (object ids are
 * stable within one) and still reachable in `c`, by class index of `c`. With `a` and `c` taken
 * idle, that is what the work done between `a` and `b` kept.
 */
export function keptObjects(a: HeapSnapshot, b: HeapSnapshot, c: HeapSnapshot): Map<number, number[]> {
  const inA = new Set<number>();
  for (let i = 0; i < a.nodeCount; i++) inA.add(a.ids[i]);
  const newInB = new Set<number>();
  for (let i = 0; i < b.nodeCount; i++) if (!inA.has(b.ids[i])) newInB.add(b.ids[i]);
  const dominators = c.dominatorTree();
  const kept = new Map<number, number[]>();
  for (let i = 0; i < c.nodeCount; i++) {
    if (dominators[i] < 0 || !newInB.has(c.ids[i])) continue;
    let list = kept.get(c.classes[i]);
    if (!list) kept.set(c.classes[i], (list = []));
    list.push(i);
  }
  return kept;
}

/**
 * What a process's resident memory is made of, read from Linux's /proc/PID/smaps, for the soak:
 * RSS alone mixes the JavaScript heap, WebAssembly memories, malloc's arenas and mapped files,
 * and a growth in one hides in the swings of another. Found by shape, not by name:
 * - a WebAssembly memory is a read-write region directly followed by an inaccessible one, the two
 *   together 4 GiB or more (V8 reserves each 32-bit memory's whole range and its guard);
 * - a malloc arena of a thread (glibc) is a read-write region at a 64 MiB boundary directly
 *   followed by an inaccessible rest of those 64 MiB;
 * - `[heap]` is the main thread's malloc arena;
 * - files are mappings with a path; everything else anonymous is "other" (V8's heap among it).
 */
const WASM_RESERVATION_BYTES = 4 * 2 ** 30;
const ARENA_BYTES = 64 * 2 ** 20;
// User-space addresses stay below 2^53 (47 or 48 bits on x86-64, at most 52 on arm64), so
// plain numbers hold them exactly.

export interface ResidentByKind {
  wasmMemoriesKb: number;
  threadArenasKb: number;
  mainHeapKb: number;
  filesKb: number;
  otherAnonymousKb: number;
}

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rssKb: number;
}

function mappings(smaps: string): Mapping[] {
  const list: Mapping[] = [];
  for (const line of smaps.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      list.push({
        start: Number.parseInt(header[1], 16),
        end: Number.parseInt(header[2], 16),
        perms: header[3],
        path: header[4],
        rssKb: 0
      });
    } else if (line.startsWith('Rss:') && list.length > 0) {
      list[list.length - 1].rssKb = Number.parseInt(line.slice(4), 10);
    }
  }
  return list;
}

export function residentByKind(smaps: string): ResidentByKind {
  const list = mappings(smaps);
  const sums: ResidentByKind = {
    wasmMemoriesKb: 0,
    threadArenasKb: 0,
    mainHeapKb: 0,
    filesKb: 0,
    otherAnonymousKb: 0
  };
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    const next = list[i + 1];
    const guardFollows =
      m.path === '' && m.perms.startsWith('rw') && next?.start === m.end && next.perms.startsWith('---');
    if (guardFollows && next.end - m.start >= WASM_RESERVATION_BYTES) sums.wasmMemoriesKb += m.rssKb;
    else if (guardFollows && m.start % ARENA_BYTES === 0 && next.end - m.start === ARENA_BYTES)
      sums.threadArenasKb += m.rssKb;
    else if (m.path === '[heap]') sums.mainHeapKb += m.rssKb;
    else if (m.path.startsWith('/')) sums.filesKb += m.rssKb;
    else sums.otherAnonymousKb += m.rssKb;
  }
  return sums;
}

/**
 * The path of what an open file is, as the kernel has it: what a check made before the open
 * cannot promise, since a folder on the way may have been swapped for a symlink in between.
 */
import { readlink, realpath, stat, type FileHandle } from 'node:fs/promises';

/**
 * Where `file` (opened as `path`) is: /proc/self/fd on Linux; elsewhere the real path of `path`
 * if that is still the same file. Undefined when neither can tell.
 */
export async function openedPath(file: FileHandle, path: string): Promise<string | undefined> {
  const viaProc = await readlink(`/proc/self/fd/${file.fd}`).catch(() => undefined);
  if (viaProc !== undefined && viaProc.startsWith('/')) return viaProc;
  const [opened, named] = await Promise.all([file.stat(), stat(path).catch(() => undefined)]);
  if (!named || named.dev !== opened.dev || named.ino !== opened.ino) return undefined;
  return realpath(path).catch(() => undefined);
}

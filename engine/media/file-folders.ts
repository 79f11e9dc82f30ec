/**
 * The file sandbox of calls: `playFile` / `fileToPlay` read only inside the play folders, and
 * `record` writes only inside the record folder. With none configured both refuse. A record
 * target must be a path inside the folder (relative, or absolute within it) whose directory's
 * real path (after `..` and symlinks) is inside the folder's real path; the file itself is
 * opened with O_NOFOLLOW, so a symlink planted at the target is not followed either.
 */
import { constants } from 'node:fs';
import { lstat, open, realpath, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TtsError } from '../../tts/index.js';
import { FileAccessError } from '../errors.js';

function isInside(folder: string, candidate: string): boolean {
  const rel = relative(folder, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** Turns the prompt service's folder refusals into the engine's typed error; other errors pass. */
export function playRefusal(error: unknown, path: string): unknown {
  if (!(error instanceof TtsError)) return error;
  if (error.code === 'ERR_NO_PROMPT_FOLDER') {
    return new FileAccessError(
      'NOT_CONFIGURED',
      path,
      `cannot play '${path}': no play folder is configured (EngineOptions.files.playFolders)`,
      { cause: error }
    );
  }
  if (error.code === 'ERR_OUTSIDE_PROMPT_FOLDER')
    return new FileAccessError('OUTSIDE_FOLDER', path, error.message, { cause: error });
  return error;
}

export class RecordFolder {
  private folderReal: Promise<string> | undefined;

  constructor(readonly folder: string | undefined) {}

  /** The absolute path to write `path` to, or FileAccessError. */
  async resolve(path: string): Promise<string> {
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0'))
      throw new TypeError('record: path must be a non-empty string without NUL');
    const folder = this.folder;
    if (folder === undefined) {
      throw new FileAccessError(
        'NOT_CONFIGURED',
        path,
        `cannot record to '${path}': no record folder is configured (EngineOptions.files.recordFolder)`
      );
    }
    this.folderReal ??= realpath(folder).catch((error: unknown) => {
      this.folderReal = undefined;
      throw new FileAccessError(
        'NOT_CONFIGURED',
        path,
        `cannot record to '${path}': the record folder '${folder}' does not exist`,
        { cause: error }
      );
    });
    const folderReal = await this.folderReal;
    const lexical = resolve(folder, path);
    const outside = new FileAccessError(
      'OUTSIDE_FOLDER',
      path,
      `cannot record to '${path}': it is outside the record folder '${folder}'`
    );
    if (!isInside(resolve(folder), lexical) && !isInside(folderReal, lexical)) throw outside;
    let directoryReal: string;
    try {
      directoryReal = await realpath(dirname(lexical));
    } catch (error) {
      throw new FileAccessError(
        'OUTSIDE_FOLDER',
        path,
        `cannot record to '${path}': its directory does not exist inside the record folder`,
        { cause: error }
      );
    }
    const target = join(directoryReal, basename(lexical));
    if (directoryReal !== folderReal && !isInside(folderReal, directoryReal)) throw outside;
    const existing = await lstat(target).catch(() => undefined);
    if (existing && !existing.isFile())
      throw new FileAccessError(
        'OUTSIDE_FOLDER',
        path,
        `cannot record to '${path}': it exists and is not a regular file`
      );
    return target;
  }
}

/** Opens `path` for writing, created or truncated, without following a symlink at `path` (O_NOFOLLOW). */
export function openNoFollow(path: string): Promise<FileHandle> {
  return open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
}

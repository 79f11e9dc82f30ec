/**
 * The file sandbox of calls: `playFile` / `fileToPlay` read only inside the play folders, and
 * `record` writes only inside the record folder. With none configured both refuse. A record
 * target must be a path inside the folder (relative, or absolute within it) whose directory's
 * real path (after `..` and symlinks) is inside the folder's real path; the file itself is
 * opened with O_NOFOLLOW, so a symlink planted at the target is not followed either, and one
 * with another name (a hard link) is refused. What was opened is checked again, by the path the
 * kernel gives the open file: a folder on the way swapped for a symlink between the check and
 * the open (a race anyone who may write in the folder can run) is caught there.
 */
import { constants } from 'node:fs';
import { lstat, open, realpath, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TtsError, openedPath } from '../../tts/index.js';
import { FileAccessError, InvalidArgumentError } from '../errors.js';

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

/** Where a record target is to be written, and the real path of the folder it must stay in. */
export interface RecordTarget {
  path: string;
  folderReal: string;
}

export class RecordFolder {
  constructor(readonly folder: string | undefined) {}

  /** Where to write `path`, or FileAccessError. */
  async resolve(path: string): Promise<RecordTarget> {
    if (typeof path !== 'string' || path.length === 0)
      throw new TypeError('record: path must be a non-empty string');
    if (path.includes('\0')) throw new InvalidArgumentError('path', 'record: path must not contain NUL');
    const folder = this.folder;
    if (folder === undefined) {
      throw new FileAccessError(
        'NOT_CONFIGURED',
        path,
        `cannot record to '${path}': no record folder is configured (EngineOptions.files.recordFolder)`
      );
    }
    // Looked up on every recording, not kept from the first: a folder configured as a symlink the
    // operator re-points (a deploy's `current` link) is followed, where every recording after the
    // change was refused as outside the folder until a restart.
    const folderReal = await realpath(folder).catch((error: unknown) => {
      throw new FileAccessError(
        'NOT_CONFIGURED',
        path,
        `cannot record to '${path}': the record folder '${folder}' does not exist`,
        { cause: error }
      );
    });
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
    // Not opened to find out: a FIFO blocks an open for writing. Other names are openNoFollow's.
    const existing = await lstat(target).catch(() => undefined);
    if (existing && !existing.isFile()) throw notOwnFile(path);
    return { path: target, folderReal };
  }
}

function cannotOpen(path: string, error: unknown): FileAccessError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new FileAccessError('CANNOT_OPEN', path, `cannot record to '${path}': ${code}`, { cause: error });
}

/**
 * A record target that is not a regular file of its own: a symlink, a directory, a FIFO, or a hard
 * link whose other name may be anywhere on the file system (writing it would write there).
 */
function notOwnFile(path: string): FileAccessError {
  return new FileAccessError(
    'OUTSIDE_FOLDER',
    path,
    `cannot record to '${path}': it exists and is not a regular file of its own (a link, a directory or a FIFO)`
  );
}

/**
 * Opens a record target for writing, created or emptied, without following a symlink at its
 * path (O_NOFOLLOW). It is emptied only once the open file is seen to be a regular file with no
 * other name, inside the folder: a hard link made between RecordFolder.resolve and here is
 * refused, not truncated, and so is a file that a swapped folder put elsewhere (one this open
 * created there is removed again). The file system's refusals are FileAccessError too.
 */
export async function openNoFollow(target: RecordTarget): Promise<FileHandle> {
  const { path, folderReal } = target;
  let file: FileHandle;
  let created = true;
  try {
    file = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotOpen(path, error);
    created = false;
    // O_NONBLOCK: a FIFO put here after the check is refused (ENXIO), not waited on for a reader.
    file = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
      (again: unknown) => {
        const code = (again as NodeJS.ErrnoException).code;
        throw code === 'ELOOP' || code === 'ENXIO' ? notOwnFile(path) : cannotOpen(path, again);
      }
    );
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile() || stats.nlink > 1) throw notOwnFile(path);
    const opened = await openedPath(file, path);
    if (opened === undefined || !isInside(folderReal, opened)) {
      if (created && opened !== undefined) await unlink(opened).catch(() => undefined);
      throw new FileAccessError(
        'OUTSIDE_FOLDER',
        path,
        `cannot record to '${path}': the file opened is not inside the record folder (a folder on its path changed)`
      );
    }
    await file.truncate(0);
  } catch (error) {
    await file.close();
    throw error;
  }
  return file;
}

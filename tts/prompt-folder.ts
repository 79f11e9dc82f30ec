/**
 * Resolves prompt file paths and keeps them inside the configured prompt folders. A relative
 * path is looked up in each folder in turn; the real path (after `..` and every symlink) must
 * lie inside that folder's own real path, so neither `../../etc/passwd`, an absolute path
 * elsewhere, nor a symlink pointing out escapes. A folder that does not exist (yet) holds no
 * file and is passed over. Without a folder nothing is read at all. The file is then opened
 * (never blocking: a FIFO is refused, not waited on) and what was opened is checked again, by the
 * path the kernel gives it, so a folder swapped for a symlink after the check is caught; it is
 * read from that open file, never by its name again.
 */
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { TtsError } from './errors.js';
import { openedPath } from './opened-path.js';

/** A prompt file open for reading; the caller closes `handle`. */
export interface OpenedPromptFile {
  handle: FileHandle;
  /** Where it is, as the kernel has it, and what it is: together, the key of what it holds. */
  realPath: string;
  dev: number;
  ino: number;
  sizeBytes: number;
  mtimeMs: number;
}

/**
 * Largest prompt file read into memory (about 9 minutes of 48 kHz stereo 16-bit). The decoder
 * also refuses a WAV longer than an hour (WAV_MAX_DURATION_S), whatever its size.
 */
export const PROMPT_FILE_MAX_BYTES = 100 * 1024 * 1024;

function fileError(error: unknown, path: string): TtsError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new TtsError('ERR_FILE_NOT_FOUND', `prompt file '${path}' does not exist`, { cause: error });
  return new TtsError(
    'ERR_FILE_UNREADABLE',
    `prompt file '${path}' cannot be read (${code ?? String(error)})`,
    { cause: error }
  );
}

function isInside(folder: string, candidate: string): boolean {
  const rel = relative(folder, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

export class PromptFolder {
  readonly folders: readonly string[];

  constructor(folders: string | readonly string[] | undefined) {
    this.folders = folders === undefined ? [] : typeof folders === 'string' ? [folders] : [...folders];
  }

  /** Opens `path` inside a prompt folder, or throws TtsError (ERR_OUTSIDE_PROMPT_FOLDER, ERR_FILE_*). */
  async open(path: string): Promise<OpenedPromptFile> {
    const { realPath, folderReal } = await this.locate(path);
    let handle: FileHandle;
    try {
      handle = await open(realPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      throw fileError(error, path);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile())
        throw new TtsError('ERR_FILE_UNREADABLE', `prompt file '${path}' is not a regular file`);
      if (info.size > PROMPT_FILE_MAX_BYTES) {
        throw new TtsError(
          'ERR_FILE_UNREADABLE',
          `prompt file '${path}' is ${info.size} bytes; the limit is ${PROMPT_FILE_MAX_BYTES}`
        );
      }
      const opened = await openedPath(handle, realPath);
      if (opened === undefined || !isInside(folderReal, opened))
        throw new TtsError(
          'ERR_OUTSIDE_PROMPT_FOLDER',
          `prompt file '${path}' is not inside the prompt folder once opened (a folder on its path changed)`
        );
      return {
        handle,
        realPath: opened,
        dev: info.dev,
        ino: info.ino,
        sizeBytes: info.size,
        mtimeMs: info.mtimeMs
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  private async locate(path: string): Promise<{ realPath: string; folderReal: string }> {
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
      throw new TtsError(
        'ERR_INVALID_ARGUMENT',
        `prompt file path must be a non-empty string without NUL, got ${JSON.stringify(path)}`
      );
    }
    if (this.folders.length === 0) {
      throw new TtsError(
        'ERR_NO_PROMPT_FOLDER',
        `prompt file '${path}' refused: no prompt folder is configured, so no file may be played`
      );
    }
    let notFound: TtsError | undefined;
    let folderMissing: TtsError | undefined;
    let inside = false;
    for (const folder of this.folders) {
      const lexical = resolve(folder, path);
      let folderReal: string;
      try {
        folderReal = await this.realFolder(folder);
      } catch (error) {
        // A missing folder holds no file; the others may. It is reported only if no folder has the file.
        if (isInside(resolve(folder), lexical)) {
          inside = true;
          folderMissing ??= new TtsError(
            'ERR_FILE_NOT_FOUND',
            `prompt file '${path}' does not exist: the prompt folder '${folder}' does not exist`,
            { cause: error }
          );
        }
        continue;
      }
      // Refuse obvious escapes before touching the file system, so a missing file outside the
      // folder reports the escape rather than "not found".
      if (!isInside(resolve(folder), lexical) && !isInside(folderReal, lexical)) continue;
      inside = true;
      let realPath: string;
      try {
        realPath = await realpath(lexical);
      } catch (error) {
        notFound ??= fileError(error, path);
        continue;
      }
      if (!isInside(folderReal, realPath)) {
        throw new TtsError(
          'ERR_OUTSIDE_PROMPT_FOLDER',
          `prompt file '${path}' resolves (through a symlink) outside the prompt folder '${folder}'`
        );
      }
      return { realPath, folderReal };
    }
    if (!inside)
      throw new TtsError(
        'ERR_OUTSIDE_PROMPT_FOLDER',
        `prompt file '${path}' is outside the prompt folders ${this.folders.map((f) => `'${f}'`).join(', ')}`
      );
    throw (notFound ?? folderMissing) as TtsError;
  }

  /**
   * The folder's real path now, looked up on every open: a folder configured as a symlink that the
   * operator re-points (a deploy's `current` link, a share mounted elsewhere) is followed. Kept from
   * the first open, every file in the new place was refused as outside the folder until a restart.
   */
  private async realFolder(folder: string): Promise<string> {
    try {
      return await realpath(folder);
    } catch (error) {
      throw new TtsError('ERR_FILE_NOT_FOUND', `prompt folder '${folder}' does not exist`, { cause: error });
    }
  }
}

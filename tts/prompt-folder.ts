/**
 * Resolves prompt file paths and keeps them inside the configured prompt folder. A relative path
 * is taken relative to the folder; the real path (after `..` and every symlink) must lie inside
 * the folder's own real path, so neither `../../etc/passwd` nor a symlink pointing out escapes.
 * Without a configured folder any readable path is accepted (the application vouches for it).
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { TtsError } from './errors.js';

export interface ResolvedPromptFile {
  realPath: string;
  sizeBytes: number;
  mtimeMs: number;
}

/** Largest prompt file read into memory (about 9 minutes of 48 kHz stereo 16-bit). */
export const PROMPT_FILE_MAX_BYTES = 100 * 1024 * 1024;

function fileError(error: unknown, path: string): TtsError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new TtsError('ERR_FILE_NOT_FOUND', `prompt file '${path}' does not exist`, { cause: error });
  return new TtsError('ERR_FILE_UNREADABLE', `prompt file '${path}' cannot be read (${code ?? String(error)})`, { cause: error });
}

function isInside(folder: string, candidate: string): boolean {
  const rel = relative(folder, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

export class PromptFolder {
  private folderReal: Promise<string> | undefined;

  constructor(readonly folder: string | undefined) {}

  async resolve(path: string): Promise<ResolvedPromptFile> {
    if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
      throw new TtsError('ERR_INVALID_ARGUMENT', `prompt file path must be a non-empty string without NUL, got ${JSON.stringify(path)}`);
    }
    let candidate = path;
    if (this.folder !== undefined) {
      const folderReal = await this.realFolder();
      const lexical = resolve(this.folder, path);
      // Refuse obvious escapes before touching the file system, so a missing file outside the
      // folder reports the escape rather than "not found".
      if (!isInside(resolve(this.folder), lexical) && !isInside(folderReal, lexical)) {
        throw new TtsError('ERR_OUTSIDE_PROMPT_FOLDER', `prompt file '${path}' is outside the prompt folder '${this.folder}'`);
      }
      candidate = lexical;
    }
    let realPath: string;
    try {
      realPath = await realpath(candidate);
    } catch (error) {
      throw fileError(error, path);
    }
    if (this.folder !== undefined && !isInside(await this.realFolder(), realPath)) {
      throw new TtsError('ERR_OUTSIDE_PROMPT_FOLDER', `prompt file '${path}' resolves (through a symlink) outside the prompt folder '${this.folder}'`);
    }
    let info;
    try {
      info = await stat(realPath);
    } catch (error) {
      throw fileError(error, path);
    }
    if (!info.isFile()) throw new TtsError('ERR_FILE_UNREADABLE', `prompt file '${path}' is not a regular file`);
    if (info.size > PROMPT_FILE_MAX_BYTES) {
      throw new TtsError('ERR_FILE_UNREADABLE', `prompt file '${path}' is ${info.size} bytes; the limit is ${PROMPT_FILE_MAX_BYTES}`);
    }
    return { realPath, sizeBytes: info.size, mtimeMs: info.mtimeMs };
  }

  private realFolder(): Promise<string> {
    if (!this.folder) throw new TtsError('ERR_FILE_NOT_FOUND', 'no prompt folder is configured');
    const folder = this.folder;
    this.folderReal ??= realpath(folder).catch((error: unknown) => {
      this.folderReal = undefined;
      throw new TtsError('ERR_FILE_NOT_FOUND', `prompt folder '${folder}' does not exist`, { cause: error });
    });
    return this.folderReal;
  }
}

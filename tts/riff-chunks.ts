/**
 * A bounded scan of the top-level chunks of a RIFF (little-endian) or RIFX (big-endian) file
 * (Microsoft, "Multimedia Programming Interface and Data Specifications 1.0", 1991, chapter 2).
 * Chunk contents are not parsed: a chunk is an id and the bytes of its body, so a header field
 * inside a chunk (a loop or cue point count, say) can never make the scan do more work. Each
 * chunk's size is checked against the end of the buffer, an odd-sized chunk is followed by a
 * pad byte, and at most `RIFF_MAX_CHUNKS` chunks are visited.
 */

/** Chunks visited before the scan gives up; real WAV files carry a handful. */
export const RIFF_MAX_CHUNKS = 1024;

const HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;

export interface RiffChunk {
  /** Offset of the chunk body (after its id and size) in the buffer. */
  bodyOffset: number;
  /** Bytes of the body present in the buffer: the declared size, or less if the buffer ends first. */
  bodyBytes: number;
  /** The declared size ran past the end of the buffer (a truncated file, or a streaming writer's placeholder size). */
  truncated: boolean;
}

export interface RiffScan {
  /** Form type at offset 8, e.g. 'WAVE'. */
  formType: string;
  /** RIFX: every multi-byte field, and the samples, are big-endian. */
  bigEndian: boolean;
  /** The first chunk of each wanted id that the scan met. */
  chunks: Map<string, RiffChunk>;
}

function fourCC(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/**
 * Finds the first chunk of each id in `wanted`, or undefined if `bytes` is not a RIFF/RIFX
 * container. The declared RIFF size is not trusted (writers often get it wrong); the buffer's own
 * length bounds the scan, which stops when every wanted chunk is found, at a chunk that runs past
 * the end of the buffer, or after `RIFF_MAX_CHUNKS` chunks.
 */
export function scanRiff(bytes: Uint8Array, wanted: readonly string[]): RiffScan | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  const container = fourCC(bytes, 0);
  if (container !== 'RIFF' && container !== 'RIFX') return undefined;
  const bigEndian = container === 'RIFX';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks = new Map<string, RiffChunk>();
  let at = HEADER_BYTES;
  for (let visited = 0; visited < RIFF_MAX_CHUNKS && chunks.size < wanted.length; visited++) {
    if (bytes.length - at < CHUNK_HEADER_BYTES) break;
    const id = fourCC(bytes, at);
    const declared = view.getUint32(at + 4, !bigEndian);
    const bodyOffset = at + CHUNK_HEADER_BYTES;
    const available = bytes.length - bodyOffset;
    const truncated = declared > available;
    if (wanted.includes(id) && !chunks.has(id))
      chunks.set(id, { bodyOffset, bodyBytes: truncated ? available : declared, truncated });
    if (truncated) break;
    at = bodyOffset + declared + (declared & 1);
  }
  return { formType: fourCC(bytes, 8), bigEndian, chunks };
}

/** Seeded random input for reproducible SIP fuzz tests. */
import { mulberry32 } from './prng.js';
export { mulberry32 };

export function randomBytesSeeded(rand: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

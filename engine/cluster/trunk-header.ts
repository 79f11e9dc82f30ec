/**
 * The header that marks an INVITE as a cluster trunk leg and says which room, which owner
 * epoch and which node it comes from: `X-Uasmedia-Trunk: room=sales;epoch=7;node=b`.
 * Parsed without regular expressions over network bytes beyond simple token checks.
 */
export const TRUNK_HEADER = 'X-Uasmedia-Trunk';

export interface TrunkTag {
  room: string;
  epoch: number;
  node: string;
}

const TOKEN = /^[A-Za-z0-9._-]{1,64}$/;

export function formatTrunkTag(tag: TrunkTag): string {
  return `room=${tag.room};epoch=${tag.epoch};node=${tag.node}`;
}

/** The tag in a header value, or undefined when it is malformed. */
export function parseTrunkTag(value: string): TrunkTag | undefined {
  if (value.length > 256) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const room = fields.get('room');
  const node = fields.get('node');
  const epoch = Number(fields.get('epoch'));
  if (room === undefined || node === undefined || !TOKEN.test(room) || !TOKEN.test(node)) return undefined;
  if (!Number.isSafeInteger(epoch) || epoch < 1) return undefined;
  return { room, epoch, node };
}

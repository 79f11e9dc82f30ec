/**
 * The header that marks an INVITE as a cluster trunk leg and says which room, which owner
 * epoch and which node it comes from, signed with the cluster's trunk secret:
 * `X-Uasmedia-Trunk: room=sales;epoch=7;node=b;ts=1764662400;mac=…`.
 *
 * A trunk leg enters its room without the application seeing a call (no PIN, no prompt), so the
 * tag must prove it comes from a member: `mac` is HMAC-SHA-256 over room, epoch, node and `ts`
 * (Unix seconds) with the secret every member reads from the directory (RoomDirectory.trunkSecret). A tag
 * is good for TAG_LIFETIME_SECONDS either side of `ts`, so a captured header cannot be replayed
 * later, while members whose clocks differ by a few seconds still agree.
 * Parsed without regular expressions over network bytes beyond simple token checks.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TRUNK_HEADER = 'X-Uasmedia-Trunk';

/** How far (s) a tag's `ts` may be from the receiver's clock. */
export const TAG_LIFETIME_SECONDS = 120;

export interface TrunkTag {
  room: string;
  epoch: number;
  node: string;
}

/** A tag as read off the wire, before its signature is checked. */
export interface SignedTrunkTag extends TrunkTag {
  ts: number;
  mac: string;
}

const TOKEN = /^[A-Za-z0-9._-]{1,64}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;

function macOf(tag: TrunkTag, ts: number, secret: string): string {
  return createHmac('sha256', secret)
    .update(`${tag.room}|${tag.epoch}|${tag.node}|${ts}`)
    .digest('base64url');
}

export function formatTrunkTag(tag: TrunkTag, secret: string, nowSeconds: number): string {
  const ts = Math.floor(nowSeconds);
  return `room=${tag.room};epoch=${tag.epoch};node=${tag.node};ts=${ts};mac=${macOf(tag, ts, secret)}`;
}

/** The tag in a header value, or undefined when it is malformed. Its signature is not checked. */
export function parseTrunkTag(value: string): SignedTrunkTag | undefined {
  if (value.length > 256) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const room = fields.get('room');
  const node = fields.get('node');
  const mac = fields.get('mac');
  const epoch = Number(fields.get('epoch'));
  const ts = Number(fields.get('ts'));
  if (room === undefined || node === undefined || !TOKEN.test(room) || !TOKEN.test(node)) return undefined;
  if (!Number.isSafeInteger(epoch) || epoch < 1 || !Number.isSafeInteger(ts) || ts < 0) return undefined;
  if (mac === undefined || !MAC.test(mac)) return undefined;
  return { room, epoch, node, ts, mac };
}

/** Whether one of `secrets` signed `tag`, within TAG_LIFETIME_SECONDS of `nowSeconds`. */
export function trunkTagSigned(tag: SignedTrunkTag, secrets: readonly string[], nowSeconds: number): boolean {
  if (Math.abs(nowSeconds - tag.ts) > TAG_LIFETIME_SECONDS) return false;
  const given = Buffer.from(tag.mac, 'base64url');
  return secrets.some((secret) => {
    const expected = Buffer.from(macOf(tag, tag.ts, secret), 'base64url');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/**
 * The header that marks an INVITE as a cluster trunk leg and says which room, which owner
 * epoch and which node it comes from, signed with the cluster's trunk secret:
 * `X-Uasmedia-Trunk: room=sales;epoch=7;node=b;id=…;ts=1764662400;mac=…`.
 *
 * A trunk leg enters its room without the application seeing a call (no PIN, no prompt), so the
 * tag must prove it comes from a member: `mac` is HMAC-SHA-256 over room, epoch, node, `id` (16
 * random bytes) and `ts` (Unix seconds) with the secret every member reads from the directory
 * (RoomDirectory.trunkSecret). A tag is good for TAG_LIFETIME_SECONDS either side of `ts`, while
 * members whose clocks differ by a few seconds still agree, and once only: the owner remembers
 * the ids it took (TrunkTagLedger), so a captured header cannot be replayed, sooner or later.
 * Parsed without regular expressions over network bytes beyond simple token checks.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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
  /** Names this tag alone: the owner takes each id once. */
  id: string;
  ts: number;
  mac: string;
}

const TOKEN = /^[A-Za-z0-9._-]{1,64}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;
const ID = /^[A-Za-z0-9_-]{22}$/;

function macOf(tag: TrunkTag, id: string, ts: number, secret: string): string {
  return createHmac('sha256', secret)
    .update(`${tag.room}|${tag.epoch}|${tag.node}|${id}|${ts}`)
    .digest('base64url');
}

export function formatTrunkTag(tag: TrunkTag, secret: string, nowSeconds: number): string {
  const ts = Math.floor(nowSeconds);
  const id = randomBytes(16).toString('base64url');
  return `room=${tag.room};epoch=${tag.epoch};node=${tag.node};id=${id};ts=${ts};mac=${macOf(tag, id, ts, secret)}`;
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
  const id = fields.get('id');
  const epoch = Number(fields.get('epoch'));
  const ts = Number(fields.get('ts'));
  if (room === undefined || node === undefined || !TOKEN.test(room) || !TOKEN.test(node)) return undefined;
  if (!Number.isSafeInteger(epoch) || epoch < 1 || !Number.isSafeInteger(ts) || ts < 0) return undefined;
  if (mac === undefined || !MAC.test(mac) || id === undefined || !ID.test(id)) return undefined;
  return { room, epoch, node, id, ts, mac };
}

/** Whether one of `secrets` signed `tag`, within TAG_LIFETIME_SECONDS of `nowSeconds`. */
export function trunkTagSigned(tag: SignedTrunkTag, secrets: readonly string[], nowSeconds: number): boolean {
  if (Math.abs(nowSeconds - tag.ts) > TAG_LIFETIME_SECONDS) return false;
  const given = Buffer.from(tag.mac, 'base64url');
  return secrets.some((secret) => {
    const expected = Buffer.from(macOf(tag, tag.id, tag.ts, secret), 'base64url');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** Most tag ids remembered: a member sends a handful a minute; a flood would need the secret. */
const LEDGER_MAX = 100_000;

/** The tag ids an owner has taken, until their tags could no longer pass anyway. */
export class TrunkTagLedger {
  /** id → when its tag stops passing (Unix seconds); inserted in the order taken. */
  readonly #taken = new Map<string, number>();

  /** Takes `tag`'s id: false when it was taken before (a replay). */
  take(tag: SignedTrunkTag, nowSeconds: number): boolean {
    for (const [id, until] of this.#taken) {
      if (until >= nowSeconds && this.#taken.size < LEDGER_MAX) break;
      this.#taken.delete(id);
    }
    if (this.#taken.has(tag.id)) return false;
    // Later ones may expire sooner (ts is the sender's clock): the sweep above only drops the front.
    this.#taken.set(tag.id, Math.max(tag.ts + TAG_LIFETIME_SECONDS, nowSeconds + 2 * TAG_LIFETIME_SECONDS));
    return true;
  }

  get size(): number {
    return this.#taken.size;
  }
}

/** The trunk-leg header: what a member sends, and what the owner accepts from the network. */
import { describe, it, expect } from 'vitest';
import {
  TrunkTagLedger,
  formatTrunkTag,
  parseTrunkTag,
  trunkTagSigned,
  TAG_LIFETIME_SECONDS
} from '../../engine/cluster/trunk-header.js';

const SECRET = 'a-cluster-secret-of-some-length';
const NOW = 1_764_662_400;

describe('trunk header', () => {
  it('round-trips room, epoch and node, signed with the secret at a time', () => {
    const tag = { room: 'sales42', epoch: 17, node: 'edge-1.b' };
    const value = formatTrunkTag(tag, SECRET, NOW + 0.7);
    expect(value).toMatch(
      /^room=sales42;epoch=17;node=edge-1\.b;id=[A-Za-z0-9_-]{22};ts=1764662400;mac=[A-Za-z0-9_-]{43}$/
    );
    const parsed = parseTrunkTag(value);
    expect(parsed).toMatchObject({ ...tag, ts: NOW });
    expect(trunkTagSigned(parsed!, [SECRET], NOW)).toBe(true);
    const spaced = parseTrunkTag(` node=edge-1.b ; ${value.replace('node=edge-1.b;', '')}`);
    expect(spaced).toEqual(parsed);
  });

  it('refuses a tag another secret signed, or any field changed, or one too old or too new', () => {
    const value = formatTrunkTag({ room: 'sales42', epoch: 17, node: 'b' }, SECRET, NOW);
    const signed = (text: string, now = NOW, secrets = [SECRET]): boolean =>
      trunkTagSigned(parseTrunkTag(text)!, secrets, now);
    expect(signed(value, NOW, ['another-secret-entirely'])).toBe(false);
    expect(signed(value, NOW, ['another-secret-entirely', SECRET])).toBe(true); // the previous secret
    expect(signed(value.replace('room=sales42', 'room=sales43'))).toBe(false);
    expect(signed(value.replace('epoch=17', 'epoch=18'))).toBe(false);
    expect(signed(value.replace('node=b', 'node=c'))).toBe(false);
    expect(signed(value.replace(/id=[^;]+/, `id=${'A'.repeat(22)}`))).toBe(false);
    expect(signed(value.replace(`ts=${NOW}`, `ts=${NOW + 1}`))).toBe(false);
    expect(signed(value, NOW + TAG_LIFETIME_SECONDS)).toBe(true);
    expect(signed(value, NOW + TAG_LIFETIME_SECONDS + 1)).toBe(false);
    expect(signed(value, NOW - TAG_LIFETIME_SECONDS - 1)).toBe(false);
    expect(signed(value, NOW, [])).toBe(false);
  });

  const MAC = 'A'.repeat(43);
  it.each([
    ['', 'empty'],
    [`room=r;epoch=3;ts=1;mac=${MAC}`, 'no node'],
    ['room=r;epoch=3;node=n;ts=1', 'no mac'],
    [`room=r;epoch=3;node=n;mac=${MAC}`, 'no ts'],
    [`room=r;epoch=3;node=n;ts=1;mac=${MAC}`, 'no id (a tag before ids)'],
    [`room=r;epoch=3;node=n;ts=1;mac=${MAC.slice(1)}`, 'short mac'],
    [`room=r;epoch=3;node=n;id=${'A'.repeat(21)};ts=1;mac=${MAC}`, 'short id'],
    [`room=r;epoch=0;node=n;ts=1;mac=${MAC}`, 'epoch 0'],
    [`room=r;epoch=-1;node=n;ts=1;mac=${MAC}`, 'negative epoch'],
    [`room=r;epoch=1.5;node=n;ts=1;mac=${MAC}`, 'fractional epoch'],
    [`room=r;epoch=99999999999999999999;node=n;ts=1;mac=${MAC}`, 'epoch beyond 2^53'],
    [`room=a b;epoch=1;node=n;ts=1;mac=${MAC}`, 'space in the room'],
    [`room=r;epoch=1;node=<script>;ts=1;mac=${MAC}`, 'odd node'],
    [`room;epoch=1;node=n;ts=1;mac=${MAC}`, 'field without value'],
    [`room=${'r'.repeat(300)};epoch=1;node=n;ts=1;mac=${MAC}`, 'too long']
  ])('rejects %j (%s)', (value) => {
    expect(parseTrunkTag(value)).toBeUndefined();
  });
});

describe('TrunkTagLedger', () => {
  it('takes each tag once, and forgets it only once its tag could no longer pass', () => {
    const ledger = new TrunkTagLedger();
    const tag = parseTrunkTag(formatTrunkTag({ room: 'r', epoch: 1, node: 'b' }, SECRET, NOW))!;
    const other = parseTrunkTag(formatTrunkTag({ room: 'r', epoch: 1, node: 'b' }, SECRET, NOW))!;
    expect(ledger.take(tag, NOW)).toBe(true);
    expect(ledger.take(tag, NOW + 1)).toBe(false);
    expect(ledger.take(other, NOW + 1)).toBe(true);
    expect(ledger.take(tag, NOW + 2 * TAG_LIFETIME_SECONDS)).toBe(false);
    // Past that the tag fails its time check anyway; the ledger has let it go.
    expect(ledger.take(other, NOW + 2 * TAG_LIFETIME_SECONDS + 2)).toBe(true);
    expect(ledger.size).toBe(1);
  });
});

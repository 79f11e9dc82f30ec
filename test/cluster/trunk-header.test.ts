/** The trunk-leg header: what a member sends, and what the owner accepts from the network. */
import { describe, it, expect } from 'vitest';
import { formatTrunkTag, parseTrunkTag } from '../../engine/cluster/trunk-header.js';

describe('trunk header', () => {
  it('round-trips room, epoch and node', () => {
    const tag = { room: 'sales42', epoch: 17, node: 'edge-1.b' };
    expect(formatTrunkTag(tag)).toBe('room=sales42;epoch=17;node=edge-1.b');
    expect(parseTrunkTag(formatTrunkTag(tag))).toEqual(tag);
    expect(parseTrunkTag(' node=n ; room=r ;epoch=3')).toEqual({ room: 'r', epoch: 3, node: 'n' });
  });

  it.each([
    ['', 'empty'],
    ['room=r;epoch=3', 'no node'],
    ['room=r;epoch=0;node=n', 'epoch 0'],
    ['room=r;epoch=-1;node=n', 'negative epoch'],
    ['room=r;epoch=1.5;node=n', 'fractional epoch'],
    ['room=r;epoch=99999999999999999999;node=n', 'epoch beyond 2^53'],
    ['room=a b;epoch=1;node=n', 'space in the room'],
    ['room=r;epoch=1;node=<script>', 'odd node'],
    ['room;epoch=1;node=n', 'field without value'],
    [`room=${'r'.repeat(300)};epoch=1;node=n`, 'too long']
  ])('rejects %j (%s)', (value) => {
    expect(parseTrunkTag(value)).toBeUndefined();
  });
});

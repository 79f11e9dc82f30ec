/** The turns browsers' answers take (peer-connection-gate.ts): in order, bounded, abandonable. */
import { describe, expect, it } from 'vitest';
import { PeerConnectionGate, WebRtcBusyError } from '../../engine/webrtc/peer-connection-gate.js';

const abandoned = (): Error => new Error('abandoned');

describe('PeerConnectionGate', () => {
  it('gives turns in order, refuses past the waiting limit, and lets a waiter leave', async () => {
    const gate = new PeerConnectionGate(1, 2);
    const order: string[] = [];
    const first = await gate.turn(undefined, abandoned);
    const leaving = new AbortController();
    const second = gate.turn(leaving.signal, abandoned);
    const third = gate.turn(undefined, abandoned).then((release) => (order.push('third'), release));
    await expect(gate.turn(undefined, abandoned)).rejects.toBeInstanceOf(WebRtcBusyError);
    expect(gate.pending).toBe(3);

    leaving.abort();
    await expect(second).rejects.toThrow('abandoned');
    expect(gate.pending).toBe(2);
    expect(order).toEqual([]);
    first();
    first(); // a second release gives nothing away
    const thirdRelease = await third;
    expect(order).toEqual(['third']);
    expect(gate.pending).toBe(1);
    thirdRelease();
    expect(gate.pending).toBe(0);
    await expect(gate.turn(AbortSignal.abort(), abandoned)).rejects.toThrow('abandoned');
    expect(gate.pending).toBe(0);
  });
});

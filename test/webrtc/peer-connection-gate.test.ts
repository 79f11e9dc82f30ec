/** The turns browsers' answers take (peer-connection-gate.ts): fair, bounded, abandonable. */
import { describe, expect, it } from 'vitest';
import { PeerConnectionGate, WebRtcBusyError } from '../../engine/webrtc/peer-connection-gate.js';

const abandoned = (): Error => new Error('abandoned');

describe('PeerConnectionGate', () => {
  it('gives turns in order, refuses past the waiting limit, and lets a waiter leave', async () => {
    const gate = new PeerConnectionGate(1, 2);
    const order: string[] = [];
    const first = await gate.turn('a', undefined, abandoned);
    const leaving = new AbortController();
    const second = gate.turn('a', leaving.signal, abandoned);
    const third = gate.turn('a', undefined, abandoned).then((release) => (order.push('third'), release));
    await expect(gate.turn('a', undefined, abandoned)).rejects.toBeInstanceOf(WebRtcBusyError);
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
    await expect(gate.turn('a', AbortSignal.abort(), abandoned)).rejects.toThrow('abandoned');
    expect(gate.pending).toBe(0);
  });

  it('gives turns round the waiting sources, and refuses a source past its own waiting limit', async () => {
    const gate = new PeerConnectionGate(1, 64, 3);
    const order: string[] = [];
    const running = await gate.turn('hog', undefined, abandoned);
    const waits = [
      ...['hog-1', 'hog-2', 'hog-3'].map((name) => ({ source: 'hog', name })),
      { source: 'other', name: 'other-1' },
      { source: 'third', name: 'third-1' },
      { source: 'other', name: 'other-2' }
    ].map(({ source, name }) =>
      gate.turn(source, undefined, abandoned).then((release) => {
        order.push(name);
        release();
      })
    );
    const refused = gate.turn('hog', undefined, abandoned);
    await expect(refused).rejects.toBeInstanceOf(WebRtcBusyError);
    await expect(refused).rejects.toMatchObject({ scope: 'source' });
    running();
    await Promise.all(waits);
    expect(order).toEqual(['hog-1', 'other-1', 'third-1', 'hog-2', 'other-2', 'hog-3']);
    expect(gate.pending).toBe(0);
  });
});

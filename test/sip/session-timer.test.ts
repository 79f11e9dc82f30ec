/** RFC 4028 negotiation and the running session timer, on a fake clock. */
import { describe, expect, it } from 'vitest';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { SessionTimer, intervalFromAnswer, negotiateAsUas, parseSessionExpires, type ArmedInterval } from '../../sip/session/session-timer.js';
import { FakeClock } from '../support/sip-fake-clock.js';

const config = { expiresSeconds: 1800, minSeSeconds: 90 };

function invite(headers: Record<string, string>): SipRequest {
  const request = new SipRequest('INVITE', 'sip:room@127.0.0.1');
  for (const [name, value] of Object.entries(headers)) request.add(name, value);
  return request;
}

describe('session timer negotiation (RFC 4028)', () => {
  it('parses Session-Expires with and without refresher, and its compact form x', () => {
    expect(parseSessionExpires(invite({ 'Session-Expires': '1800;refresher=uas' }))).toEqual({ seconds: 1800, refresher: 'uas' });
    expect(parseSessionExpires(invite({ x: '600' }))).toEqual({ seconds: 600, refresher: undefined });
    expect(parseSessionExpires(invite({ 'Session-Expires': 'soon' }))).toBeUndefined();
    expect(parseSessionExpires(invite({ 'Session-Expires': '0' }))).toBeUndefined();
  });

  it('as UAS: 422 below our Min-SE; the asked interval and refresher kept; uac refreshes by default when it supports timers', () => {
    expect(negotiateAsUas(invite({ Supported: 'timer', 'Session-Expires': '60' }), config)).toEqual({ reject: { minSeSeconds: 90 } });
    expect(negotiateAsUas(invite({ Supported: 'timer', 'Session-Expires': '600;refresher=uas' }), config)).toEqual({ interval: { seconds: 600, refresher: 'uas' }, requireTimer: true });
    expect(negotiateAsUas(invite({ Supported: 'timer, 100rel', 'Session-Expires': '600' }), config)).toEqual({ interval: { seconds: 600, refresher: 'uac' }, requireTimer: true });
  });

  it('as UAS: a caller without timer support gets our interval with us refreshing, and no Require', () => {
    expect(negotiateAsUas(invite({}), config)).toEqual({ interval: { seconds: 1800, refresher: 'uas' }, requireTimer: false });
    // §9: never below the Min-SE the request itself carries.
    expect(negotiateAsUas(invite({ 'Min-SE': '3600' }), config)).toEqual({ interval: { seconds: 3600, refresher: 'uas' }, requireTimer: false });
  });

  it('as UAC: takes the 2xx interval, or refreshes itself at the asked one when the UAS ignored timers', () => {
    const granted = new SipResponse(200, 'OK').add('Session-Expires', '900;refresher=uas');
    expect(intervalFromAnswer(granted, 1800)).toEqual({ seconds: 900, refresher: 'uas' });
    expect(intervalFromAnswer(new SipResponse(200, 'OK'), 1800)).toEqual({ seconds: 1800, refresher: 'uac' });
  });
});

describe('SessionTimer', () => {
  function timer(clock: FakeClock, refresh: () => Promise<ArmedInterval>) {
    const events: string[] = [];
    const t = new SessionTimer(clock, {
      refresh: () => {
        events.push(`refresh@${clock.nowMs}`);
        return refresh();
      },
      expire: () => events.push(`expire@${clock.nowMs}`)
    });
    return { t, events };
  }

  it('expires at interval − min(32 s, interval/3) when nobody refreshes', () => {
    const clock = new FakeClock();
    const { t, events } = timer(clock, () => Promise.reject(new Error('unused')));
    t.start({ seconds: 90, weRefresh: false });
    clock.advance(200_000);
    expect(events).toEqual(['expire@60000']);
    t.start({ seconds: 1800, weRefresh: false });
    clock.advance(2_000_000);
    expect(events).toEqual(['expire@60000', `expire@${200_000 + 1_768_000}`]);
  });

  it('refreshes at half the interval when we are the refresher, and a successful refresh re-arms the expiry', async () => {
    const clock = new FakeClock();
    const { t, events } = timer(clock, () => Promise.resolve({ seconds: 90, weRefresh: true }));
    t.start({ seconds: 90, weRefresh: true });
    clock.advance(45_000);
    await Promise.resolve();
    await Promise.resolve();
    clock.advance(45_000);
    await Promise.resolve();
    await Promise.resolve();
    expect(events).toEqual(['refresh@45000', 'refresh@90000']);
    t.stop();
    expect(clock.pendingCount).toBe(0);
  });

  it('a failed refresh leaves the expiry armed', async () => {
    const clock = new FakeClock();
    const { t, events } = timer(clock, () => Promise.reject(new Error('408')));
    t.start({ seconds: 90, weRefresh: true });
    clock.advance(45_000);
    await Promise.resolve();
    await Promise.resolve();
    clock.advance(45_000);
    expect(events).toEqual(['refresh@45000', 'expire@60000']);
  });
});

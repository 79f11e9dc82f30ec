/** RFC 4028 negotiation and the running session timer, on a fake clock. */
import { describe, expect, it } from 'vitest';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import {
  SessionTimer,
  intervalFromAnswer,
  negotiateAsUas,
  parseSessionExpires,
  type RefreshOutcome,
  type SessionTimerOptions
} from '../../sip/session/session-timer.js';
import { FakeClock } from '../support/sip-fake-clock.js';

const config = { expiresSeconds: 1800, minSeSeconds: 90 };

function invite(headers: Record<string, string>): SipRequest {
  const request = new SipRequest('INVITE', 'sip:room@127.0.0.1');
  for (const [name, value] of Object.entries(headers)) request.add(name, value);
  return request;
}

describe('session timer negotiation (RFC 4028)', () => {
  it('parses Session-Expires with and without refresher, and its compact form x', () => {
    expect(parseSessionExpires(invite({ 'Session-Expires': '1800;refresher=uas' }))).toEqual({
      seconds: 1800,
      refresher: 'uas'
    });
    expect(parseSessionExpires(invite({ x: '600' }))).toEqual({ seconds: 600, refresher: undefined });
    expect(parseSessionExpires(invite({ 'Session-Expires': 'soon' }))).toBeUndefined();
    expect(parseSessionExpires(invite({ 'Session-Expires': '0' }))).toBeUndefined();
  });

  it('as UAS: 422 below our Min-SE; the asked interval and refresher kept; uac refreshes by default when it supports timers', () => {
    expect(negotiateAsUas(invite({ Supported: 'timer', 'Session-Expires': '60' }), config)).toEqual({
      reject: { minSeSeconds: 90 }
    });
    expect(
      negotiateAsUas(invite({ Supported: 'timer', 'Session-Expires': '600;refresher=uas' }), config)
    ).toEqual({ interval: { seconds: 600, refresher: 'uas' }, requireTimer: true });
    expect(negotiateAsUas(invite({ Supported: 'timer, 100rel', 'Session-Expires': '600' }), config)).toEqual({
      interval: { seconds: 600, refresher: 'uac' },
      requireTimer: true
    });
  });

  it('as UAS: a caller without timer support gets our interval with us refreshing, and no Require', () => {
    expect(negotiateAsUas(invite({}), config)).toEqual({
      interval: { seconds: 1800, refresher: 'uas' },
      requireTimer: false
    });
    // §9: never below the Min-SE the request itself carries.
    expect(negotiateAsUas(invite({ 'Min-SE': '3600' }), config)).toEqual({
      interval: { seconds: 3600, refresher: 'uas' },
      requireTimer: false
    });
  });

  it('as UAC: takes the 2xx interval, or refreshes itself at the asked one when the UAS ignored timers', () => {
    const granted = new SipResponse(200, 'OK').add('Session-Expires', '900;refresher=uas');
    expect(intervalFromAnswer(granted, 1800, 90)).toEqual({ seconds: 900, refresher: 'uas' });
    expect(intervalFromAnswer(new SipResponse(200, 'OK'), 1800, 90)).toEqual({
      seconds: 1800,
      refresher: 'uac'
    });
  });

  it('as UAC: raises a 2xx interval below our Min-SE to it (RFC 4028 §9), whoever refreshes', () => {
    // Taken as given, 1 s had us refresh twice a second for the whole call, or end it as expired.
    for (const refresher of ['uac', 'uas'] as const) {
      const tiny = new SipResponse(200, 'OK').add('Session-Expires', `1;refresher=${refresher}`);
      expect(intervalFromAnswer(tiny, 1800, 90)).toEqual({ seconds: 90, refresher });
    }
  });
});

describe('SessionTimer', () => {
  type Script = Array<RefreshOutcome | Promise<RefreshOutcome>>;

  /** A timer whose refreshes answer with `script`, one outcome each, in order. */
  function timer(clock: FakeClock, script: Script, options: SessionTimerOptions = { ownsCallId: false }) {
    const events: string[] = [];
    const t = new SessionTimer(
      clock,
      {
        refresh: () => {
          events.push(`refresh@${clock.nowMs}`);
          const next = script.shift();
          return next === undefined ? Promise.reject(new Error('no session')) : Promise.resolve(next);
        },
        expire: () => events.push(`expire@${clock.nowMs}`)
      },
      { random: () => 0.5, ...options }
    );
    return { t, events };
  }

  /** Lets the refresh outcomes settle (they are promises). */
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const refreshed = (seconds: number): RefreshOutcome => ({ interval: { seconds, weRefresh: true } });
  const failed = (status: number, retryAfterSeconds?: number): RefreshOutcome => ({
    failure: retryAfterSeconds === undefined ? { status } : { status, retryAfterSeconds }
  });

  /** Advances in steps of `stepMs`, letting refresh outcomes settle between them. */
  async function run(clock: FakeClock, totalMs: number, stepMs = 50): Promise<void> {
    for (let done = 0; done < totalMs; done += stepMs) {
      clock.advance(Math.min(stepMs, totalMs - done));
      await settle();
    }
  }

  it('expires at interval − min(32 s, interval/3) when nobody refreshes', () => {
    const clock = new FakeClock();
    const { t, events } = timer(clock, []);
    t.start({ seconds: 90, weRefresh: false });
    clock.advance(200_000);
    expect(events).toEqual(['expire@60000']);
    t.start({ seconds: 1800, weRefresh: false });
    clock.advance(2_000_000);
    expect(events).toEqual(['expire@60000', `expire@${200_000 + 1_768_000}`]);
  });

  it('refreshes at half the interval when we are the refresher, and a successful refresh re-arms the expiry', async () => {
    const clock = new FakeClock();
    const { t, events } = timer(clock, [refreshed(90), refreshed(90)]);
    t.start({ seconds: 90, weRefresh: true });
    await run(clock, 90_000);
    expect(events).toEqual(['refresh@45000', 'refresh@90000']);
    t.stop();
    expect(clock.pendingCount).toBe(0);
  });

  it('sends a refresh that met 491 again after a random 0-2 s when the peer chose the Call-ID, 2.1-4 s when we did (RFC 3261 §14.1)', async () => {
    const peers = new FakeClock();
    const theirs = timer(peers, [failed(491), refreshed(90)]);
    theirs.t.start({ seconds: 90, weRefresh: true });
    await run(peers, 100_000, 10);
    // random 0.5: 100 of the 201 steps of 10 ms in 0-2 s; then every 45 s from the refresh that worked.
    expect(theirs.events).toEqual(['refresh@45000', 'refresh@46000', 'refresh@91000']);

    const ours = new FakeClock();
    const mine = timer(ours, [failed(491), refreshed(90)], { ownsCallId: true });
    mine.t.start({ seconds: 90, weRefresh: true });
    await run(ours, 50_000, 10);
    // 2100 ms + 95 of the 191 steps of 10 ms in 2.1-4 s.
    expect(mine.events).toEqual(['refresh@45000', 'refresh@48050']);
  });

  it('retries a 500 or 503 after its Retry-After, else after 4 s doubling; a retry due after the expiry never runs', async () => {
    const clock = new FakeClock();
    const { t, events } = timer(clock, [failed(503, 5), failed(500), failed(500)]);
    t.start({ seconds: 90, weRefresh: true });
    await run(clock, 200_000);
    expect(events).toEqual(['refresh@45000', 'refresh@50000', 'refresh@58000', 'expire@60000']);
    expect(clock.pendingCount).toBe(0);
  });

  it('does not retry after a 408 or 481, nor when there was nothing to refresh: the expiry stays armed', async () => {
    for (const script of [[failed(408)], [failed(481)], []] as Script[]) {
      const clock = new FakeClock();
      const { t, events } = timer(clock, script);
      t.start({ seconds: 90, weRefresh: true });
      await run(clock, 90_000, 500);
      expect(events).toEqual(['refresh@45000', 'expire@60000']);
    }
  });

  it('does not retry a refresh that failed after the peer refreshed the session meanwhile', async () => {
    const clock = new FakeClock();
    let fail: (outcome: RefreshOutcome) => void = () => undefined;
    const { t, events } = timer(clock, [new Promise<RefreshOutcome>((resolve) => (fail = resolve))]);
    t.start({ seconds: 90, weRefresh: true });
    await run(clock, 45_000);
    t.start({ seconds: 90, weRefresh: true }); // the peer's re-INVITE, answered 2xx
    fail(failed(491));
    await run(clock, 44_000);
    expect(events).toEqual(['refresh@45000']);
    expect(clock.pendingCount).toBe(2);
  });
});

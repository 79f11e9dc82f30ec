import { describe, expect, it } from 'vitest';
import type { AnySipMessage } from '../../sip/message/message.js';
import { SipRequest } from '../../sip/message/message.js';
import { InviteClientTransaction } from '../../sip/transaction/invite-client.js';
import { InviteServerTransaction } from '../../sip/transaction/invite-server.js';
import { NonInviteClientTransaction } from '../../sip/transaction/non-invite-client.js';
import { NonInviteServerTransaction } from '../../sip/transaction/non-invite-server.js';
import { clientTransactionKey, serverTransactionKey } from '../../sip/transaction/keys.js';
import { Uas2xxRetransmitter } from '../../sip/transaction/uas-2xx-retransmitter.js';
import { DEFAULT_TIMERS } from '../../sip/transaction/timers.js';
import { FakeClock } from '../support/sip-fake-clock.js';
import { request, responseTo } from '../support/sip-messages.js';

const T1 = DEFAULT_TIMERS.t1Ms;
const T2 = DEFAULT_TIMERS.t2Ms;
const T4 = DEFAULT_TIMERS.t4Ms;

function harness(reliable = false) {
  const clock = new FakeClock();
  const sent: Array<{ at: number; message: AnySipMessage }> = [];
  const context = {
    clock,
    timers: DEFAULT_TIMERS,
    reliable,
    send: (message: AnySipMessage) => sent.push({ at: clock.nowMs, message })
  };
  return { clock, sent, context };
}

describe('INVITE client transaction (§17.1.1)', () => {
  it('retransmits the INVITE at T1, 2T1, 4T1 ... over UDP and times out with timer B at 64*T1', () => {
    const { clock, sent, context } = harness();
    let timedOut = 0;
    const tx = new InviteClientTransaction('k', request('INVITE'), context, {
      response: () => {},
      timeout: () => timedOut++
    });
    tx.start();
    clock.advance(64 * T1 + 1);
    expect(sent.map((s) => s.at)).toEqual([0, T1, 3 * T1, 7 * T1, 15 * T1, 31 * T1, 63 * T1]);
    expect(timedOut).toBe(1);
    expect(tx.state).toBe('terminated');
    expect(clock.pendingCount).toBe(0);
  });

  it('does not retransmit over TCP but still applies timer B', () => {
    const { clock, sent, context } = harness(true);
    let timedOut = 0;
    new InviteClientTransaction('k', request('INVITE'), context, {
      response: () => {},
      timeout: () => timedOut++
    }).start();
    clock.advance(64 * T1);
    expect(sent).toHaveLength(1);
    expect(timedOut).toBe(1);
  });

  it('stops retransmitting on a provisional response and survives past timer B in Proceeding', () => {
    const { clock, sent, context } = harness();
    const seen: number[] = [];
    const invite = request('INVITE');
    const tx = new InviteClientTransaction('k', invite, context, {
      response: (r) => seen.push(r.status),
      timeout: () => seen.push(-1)
    });
    tx.start();
    clock.advance(T1);
    tx.receive(responseTo(invite, 180, 'tt'));
    clock.advance(100 * T1);
    expect(sent).toHaveLength(2);
    expect(seen).toEqual([180]);
    expect(tx.state).toBe('proceeding');
  });

  it('ACKs a non-2xx final response itself, re-ACKs its retransmissions, and ends after timer D', () => {
    const { clock, sent, context } = harness();
    const seen: number[] = [];
    const invite = request('INVITE');
    const tx = new InviteClientTransaction('k', invite, context, {
      response: (r) => seen.push(r.status),
      timeout: () => {}
    });
    tx.start();
    const busy = responseTo(invite, 486, 'tt');
    tx.receive(busy);
    tx.receive(busy);
    expect(seen).toEqual([486]);
    const acks = sent.slice(1).map((s) => s.message as SipRequest);
    expect(acks.map((a) => a.method)).toEqual(['ACK', 'ACK']);
    expect(acks[0].uri).toBe(invite.uri);
    expect(acks[0].get('CSeq')).toBe('1 ACK');
    expect(acks[0].toTag).toBe('tt');
    expect(acks[0].getList('Via')).toEqual([invite.getList('Via')[0]]);
    clock.advance(32_000);
    expect(tx.state).toBe('terminated');
  });

  it('passes every 2xx to the TU in Accepted (RFC 6026) and terminates after timer M', () => {
    const { clock, context } = harness();
    const seen: number[] = [];
    const invite = request('INVITE');
    const tx = new InviteClientTransaction('k', invite, context, {
      response: (r) => seen.push(r.status),
      timeout: () => {}
    });
    tx.start();
    tx.receive(responseTo(invite, 200, 'tt'));
    tx.receive(responseTo(invite, 200, 'tt'));
    expect(seen).toEqual([200, 200]);
    expect(tx.state).toBe('accepted');
    clock.advance(64 * T1);
    expect(tx.state).toBe('terminated');
  });
});

describe('INVITE server transaction (§17.2.1)', () => {
  it('answers a retransmitted INVITE with the last provisional response', () => {
    const { sent, context } = harness();
    const invite = request('INVITE');
    const tx = new InviteServerTransaction('k', invite, context, { timeout: () => {} });
    tx.respond(responseTo(invite, 100));
    tx.receive(invite);
    expect(sent.map((s) => (s.message as ReturnType<typeof responseTo>).status)).toEqual([100, 100]);
  });

  it('retransmits a non-2xx final response with timer G (T1 doubling, capped at T2) until timer H', () => {
    const { clock, sent, context } = harness();
    const invite = request('INVITE');
    let timedOut = 0;
    const tx = new InviteServerTransaction('k', invite, context, { timeout: () => timedOut++ });
    tx.respond(responseTo(invite, 486, 'x'));
    clock.advance(64 * T1);
    const times = sent.map((s) => s.at);
    expect(times.slice(0, 5)).toEqual([0, T1, 3 * T1, 7 * T1, 7 * T1 + T2]);
    for (let i = 5; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(T2);
    expect(timedOut).toBe(1);
    expect(tx.state).toBe('terminated');
  });

  it('stops timer G on ACK, absorbs ACK retransmissions for T4 (timer I), then terminates', () => {
    const { clock, sent, context } = harness();
    const invite = request('INVITE');
    const tx = new InviteServerTransaction('k', invite, context, { timeout: () => {} });
    tx.respond(responseTo(invite, 488, 'x'));
    clock.advance(T1);
    tx.receive(request('ACK', { toTag: 'x' }));
    expect(tx.state).toBe('confirmed');
    clock.advance(T4 - 1);
    expect(sent).toHaveLength(2);
    expect(tx.state).toBe('confirmed');
    clock.advance(1);
    expect(tx.state).toBe('terminated');
  });

  it('after a 2xx absorbs retransmitted INVITEs without answering (RFC 6026 Accepted, timer L)', () => {
    const { clock, sent, context } = harness();
    const invite = request('INVITE');
    const tx = new InviteServerTransaction('k', invite, context, { timeout: () => {} });
    tx.respond(responseTo(invite, 200, 'x'));
    tx.receive(invite);
    expect(sent).toHaveLength(1);
    clock.advance(64 * T1);
    expect(tx.state).toBe('terminated');
  });
});

describe('non-INVITE transactions (§17.1.2, §17.2.2)', () => {
  it('retransmits a BYE with timer E doubling to T2 and fails with timer F', () => {
    const { clock, sent, context } = harness();
    let timedOut = 0;
    new NonInviteClientTransaction('k', request('BYE'), context, {
      response: () => {},
      timeout: () => timedOut++
    }).start();
    clock.advance(64 * T1);
    const times = sent.map((s) => s.at);
    expect(times.slice(0, 5)).toEqual([0, T1, 3 * T1, 7 * T1, 7 * T1 + T2]);
    expect(timedOut).toBe(1);
  });

  it('retransmits every T2 once a provisional response arrived', () => {
    const { clock, sent, context } = harness();
    const bye = request('BYE');
    const tx = new NonInviteClientTransaction('k', bye, context, { response: () => {}, timeout: () => {} });
    tx.start();
    tx.receive(responseTo(bye, 100));
    clock.advance(T1);
    clock.advance(T2);
    expect(sent.map((s) => s.at)).toEqual([0, T1, T1 + T2]);
  });

  it('delivers the final response once and keeps absorbing for timer K', () => {
    const { clock, context } = harness();
    const bye = request('BYE');
    const seen: number[] = [];
    const tx = new NonInviteClientTransaction('k', bye, context, {
      response: (r) => seen.push(r.status),
      timeout: () => {}
    });
    tx.start();
    tx.receive(responseTo(bye, 200, 't'));
    tx.receive(responseTo(bye, 200, 't'));
    expect(seen).toEqual([200]);
    clock.advance(T4);
    expect(tx.state).toBe('terminated');
    expect(clock.pendingCount).toBe(0);
  });

  it('server side resends its final response to a retransmitted request until timer J', () => {
    const { clock, sent, context } = harness();
    const bye = request('BYE');
    const tx = new NonInviteServerTransaction('k', bye, context);
    tx.receive(bye);
    expect(sent).toHaveLength(0);
    tx.respond(responseTo(bye, 200, 't'));
    tx.receive(bye);
    expect(sent).toHaveLength(2);
    clock.advance(64 * T1);
    expect(tx.state).toBe('terminated');
  });
});

describe('2xx retransmission by the UAS core (§13.3.1.4)', () => {
  it('resends the 2xx at T1, 2T1, 4T1 capped at T2 and reports a missing ACK after 64*T1', () => {
    const { clock, sent, context } = harness();
    const invite = request('INVITE');
    let timedOut = 0;
    const r = new Uas2xxRetransmitter(
      responseTo(invite, 200, 't'),
      clock,
      DEFAULT_TIMERS,
      (m) => context.send(m),
      () => timedOut++
    );
    r.start();
    clock.advance(64 * T1);
    const times = sent.map((s) => s.at);
    expect(times.slice(0, 4)).toEqual([T1, 3 * T1, 7 * T1, 7 * T1 + T2]);
    expect(timedOut).toBe(1);
    expect(clock.pendingCount).toBe(0);
  });

  it('stops when the ACK arrives', () => {
    const { clock, sent, context } = harness();
    const r = new Uas2xxRetransmitter(
      responseTo(request('INVITE'), 200, 't'),
      clock,
      DEFAULT_TIMERS,
      (m) => context.send(m),
      () => {}
    );
    r.start();
    clock.advance(T1);
    r.stop();
    clock.advance(64 * T1);
    expect(sent).toHaveLength(1);
  });
});

describe('transaction matching (§17.1.3, §17.2.3)', () => {
  it('maps an ACK and a retransmitted INVITE to the same server transaction, a CANCEL to its own', () => {
    const invite = request('INVITE', { branch: 'z9hG4bK-abc' });
    expect(serverTransactionKey(request('ACK', { branch: 'z9hG4bK-abc' }), '')).toBe(
      serverTransactionKey(invite, '')
    );
    expect(serverTransactionKey(request('CANCEL', { branch: 'z9hG4bK-abc' }), '')).not.toBe(
      serverTransactionKey(invite, '')
    );
  });

  it('falls back to RFC 2543 matching for branches without the magic cookie', () => {
    const a = request('INVITE', { branch: 'old-style' });
    const b = request('INVITE', { branch: 'old-style', cseq: 2 });
    expect(serverTransactionKey(a, '')).not.toBe(serverTransactionKey(b, ''));
    expect(serverTransactionKey(request('ACK', { branch: 'old-style', toTag: 'x' }), '')).toBe(
      serverTransactionKey(a, '')
    );
  });

  it('matches responses by branch and CSeq method', () => {
    const invite = request('INVITE', { branch: 'z9hG4bK-1' });
    expect(clientTransactionKey(responseTo(invite, 200))).toBe(clientTransactionKey(invite));
    expect(clientTransactionKey(responseTo(request('CANCEL', { branch: 'z9hG4bK-1' }), 200))).not.toBe(
      clientTransactionKey(invite)
    );
  });
});

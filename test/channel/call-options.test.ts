/**
 * What `call(target, options)` writes into its INVITE, over real SIP on loopback: the From URI and
 * display name, the application's headers and the credentials are often a user's input (a name
 * typed into a form). Before, a CR LF in any of them went out as it was and began a header line of
 * the user's choosing (`displayName: 'Alice\r\nX-Injected: yes'` put `X-Injected: yes` into the
 * INVITE); a value of the wrong type failed the call as `Cause.FAILED` with no error, or went out
 * as it was (`From: <hello world>`); and a signal aborted before `call()` was ignored: the INVITE
 * went out and the call rang. Now each is refused (TypeError or InvalidArgumentError) before
 * anything is sent, and an aborted signal places nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cause, Engine, InvalidArgumentError, State, type CallOptions } from '../../engine/index.js';
import type { SipRequest } from '../../sip/message/message.js';
import { responseTo } from '../support/sip-messages.js';
import { UdpTestPeer, isRequest } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let sipPort: number;
let callee: UdpTestPeer;

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.14.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 44600, maxPort: 44639 },
    logLevel: 'silent'
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
  callee = await new UdpTestPeer().open('127.0.14.2');
});

afterAll(async () => {
  await callee?.close();
  await engine?.stop();
});

/** Places a call with `options`; the callee answers 486. Resolves with the INVITE it got and the outcome. */
async function busyCall(options: CallOptions): Promise<{ invite: SipRequest; state: State; cause: Cause }> {
  const channel = engine.createChannel();
  const placing = channel.call(`sip:bob@127.0.14.2:${callee.port}`, { secondsTimeout: 30, ...options });
  const invite = (await callee.next(isRequest('INVITE'), 10_000)) as SipRequest;
  await callee.send(responseTo(invite, 486, 'bob').toBuffer(), sipPort, '127.0.14.1');
  const state = await placing;
  await callee.next(isRequest('ACK', invite.callId), 10_000);
  return { invite, state, cause: channel.cause() };
}

/** `call()` with `options` is refused with `error` before anything changes. */
async function refused(options: unknown, error: abstract new (...args: never[]) => Error): Promise<void> {
  const channel = engine.createChannel();
  await expect(channel.call(`sip:bob@127.0.14.2:${callee.port}`, options as CallOptions)).rejects.toThrow(
    error
  );
  expect(channel.state).toBe(State.IDLE);
}

describe('call() options that go into the INVITE', () => {
  it('refuses a line break in a display name, From, header or credentials, and sends no INVITE for it', async () => {
    const line = 'Alice\r\nX-Injected: yes';
    await refused({ displayName: line }, InvalidArgumentError);
    await refused({ displayName: 'A "b"\r\n\r\nBYE sip:x SIP/2.0' }, InvalidArgumentError);
    await refused({ from: 'sip:a@127.0.14.1>\r\nX-Injected: from' }, InvalidArgumentError);
    await refused({ headers: { 'X-Note': line } }, InvalidArgumentError);
    await refused({ headers: { 'X-A: 1\r\nX-Injected': 'name' } }, InvalidArgumentError);
    await refused({ auth: { username: line, password: 'p' } }, InvalidArgumentError);
    await refused({ auth: { username: 'u', password: 'p', realm: line } }, InvalidArgumentError);
    // The first INVITE the callee sees is the next, well-formed call's.
    const { invite, state, cause } = await busyCall({ headers: { 'X-Marker': 'first' } });
    expect(invite.get('X-Marker')).toBe('first');
    expect(invite.has('X-Injected')).toBe(false);
    expect([state, cause]).toEqual([State.IDLE, Cause.BUSY]);
    await waitFor(() => engine.rtpPortsInUse === 0);
  });

  it('refuses a value of the wrong type, an unknown transport and a header the SIP stack writes itself', async () => {
    await refused({ displayName: null }, TypeError);
    await refused({ displayName: 5 }, TypeError);
    await refused({ from: 5 }, TypeError);
    await refused({ from: 'hello world' }, InvalidArgumentError);
    await refused({ headers: 'X-A: 1' }, TypeError);
    await refused({ headers: ['X-A: 1'] }, TypeError);
    await refused({ headers: { 'X-N': 5 } }, TypeError);
    await refused({ headers: { 'X-S': Symbol('s') } }, TypeError);
    await refused({ headers: { 'Bad Name': 'x' } }, InvalidArgumentError);
    for (const name of ['Call-ID', 'CSeq', 'via', 'From', 'To', 'Content-Length', 'i'])
      await refused({ headers: { [name]: 'garbage' } }, InvalidArgumentError);
    await refused({ transport: 'bogus' }, InvalidArgumentError);
    await refused({ transport: 5 }, InvalidArgumentError);
    await refused({ auth: { username: 5, password: 'p' } }, TypeError);
    await refused({ auth: { username: 'u', password: 5 } }, TypeError);
    expect(engine.rtpPortsInUse).toBe(0);
  });

  it('sends a quoted display name, a From URI and the application headers as given', async () => {
    const { invite, state } = await busyCall({
      displayName: 'Alice "the boss" Smith',
      from: 'sip:alice@127.0.14.1',
      headers: { 'X-Account': 'abc;def=1', Priority: 'urgent' }
    });
    expect(invite.get('From')).toMatch(/^"Alice \\"the boss\\" Smith" <sip:alice@127\.0\.14\.1>;tag=/);
    expect(invite.get('X-Account')).toBe('abc;def=1');
    expect(invite.get('Priority')).toBe('urgent');
    expect(state).toBe(State.IDLE);
  });

  it('refuses a target whose URI carries headers, which no Request-URI may (RFC 3261 §19.1.1)', async () => {
    const channel = engine.createChannel();
    await expect(
      channel.call(`sip:bob@127.0.14.2:${callee.port}?Subject=hi&X-Injected=yes`, { secondsTimeout: 2 })
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(channel.state).toBe(State.IDLE);
    // The next INVITE the callee gets is the one placed after it, not the refused one.
    const { invite } = await busyCall({ headers: { 'X-Marker': 'after-headers' } });
    expect(invite.uri).not.toContain('?');
    expect(invite.get('X-Marker')).toBe('after-headers');
  });

  it('places nothing for a signal aborted before the call: IDLE at once, cause NORMAL, no INVITE', async () => {
    const channel = engine.createChannel();
    const states: State[] = [];
    channel.on('stateChange', ({ state }) => states.push(state));
    expect(await channel.call(`sip:bob@127.0.14.2:${callee.port}`, { signal: AbortSignal.abort() })).toBe(
      State.IDLE
    );
    expect(channel.cause()).toBe(Cause.NORMAL);
    expect(states).toEqual([]);
    expect(engine.rtpPortsInUse).toBe(0);
    const { invite } = await busyCall({ headers: { 'X-Marker': 'after-abort' } });
    expect(invite.get('X-Marker')).toBe('after-abort');
  });
});

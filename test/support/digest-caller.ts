/**
 * A caller that answers an engine's digest challenges by hand over UDP, for tests of guessing
 * and its lockouts: each INVITE a call of its own, answered with the password and digest uri the
 * test chooses, resolving with the engine's first answer from 180 on (admitted calls ring).
 */
import { expect } from 'vitest';
import { computeAuthorization, selectChallenge } from '../../sip/auth/digest.js';
import type { AnySipMessage, SipResponse } from '../../sip/message/message.js';
import { sipText, type UdpTestPeer } from './sip-udp-peer.js';

let seq = 0;

/** Sends an INVITE and resolves with its first answer from 180 on. */
export async function digestInvite(
  from: UdpTestPeer,
  host: string,
  enginePort: number,
  target: string,
  authorization?: string,
  engineHost = '127.0.0.1'
): Promise<SipResponse> {
  seq++;
  const callId = `lockout-${seq}@${host}`;
  await from.send(
    sipText([
      `INVITE ${target} SIP/2.0`,
      `Via: SIP/2.0/UDP ${host}:${from.port};branch=z9hG4bK-lockout-${seq};rport`,
      'Max-Forwards: 70',
      `From: <sip:tester@${host}>;tag=t${seq}`,
      `To: <${target}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${authorization ? 2 : 1} INVITE`,
      `Contact: <sip:tester@${host}:${from.port}>`,
      ...(authorization ? [`Authorization: ${authorization}`] : [])
    ]),
    enginePort,
    engineHost
  );
  const answered = (m: AnySipMessage): boolean =>
    (m as SipResponse).status >= 180 && (m as SipResponse).callId === callId;
  return (await from.next(answered, 5000)) as SipResponse;
}

/** A caller at `host` of room `room` on the engine at `engineHost`: asks for a challenge and answers it (as alice unless told). */
export function digestCaller(host: string, enginePort: number, room = 'r1', engineHost = '127.0.0.1') {
  const target = `sip:${room}@${engineHost}:${enginePort}`;
  return {
    target,
    async challenge(from: UdpTestPeer): Promise<string> {
      const response = await digestInvite(from, host, enginePort, target, undefined, engineHost);
      expect(response.status).toBe(401);
      return response.getAll('WWW-Authenticate')[0];
    },
    answer(
      from: UdpTestPeer,
      challenge: string,
      password: string,
      options: { nc?: number; digestUri?: string; username?: string } = {}
    ): Promise<SipResponse> {
      const authorization = computeAuthorization(
        selectChallenge([challenge]),
        { username: options.username ?? 'alice', password },
        { method: 'INVITE', uri: options.digestUri ?? target },
        options.nc ?? 1
      );
      return digestInvite(from, host, enginePort, target, authorization, engineHost);
    }
  };
}

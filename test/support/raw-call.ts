/**
 * A call from a RawUac to an answering engine on loopback, with the caller's RTP on a socket of
 * its own: what the engine sends there is kept, and the test sends its own packets from it.
 */
import dgram from 'node:dgram';
import { State, type EngineOptions, type UASCallChannel } from '../../engine/index.js';
import type { SipResponse } from '../../sip/message/message.js';
import { startAnsweringEngine } from './answering-engine.js';
import { RawUac } from './raw-uac.js';
import { waitFor } from './wait.js';

export interface RawCall {
  uac: RawUac;
  /** The engine's 2xx to the INVITE (its body is the answer). */
  final: SipResponse;
  channel: UASCallChannel;
  /** RTP packets the engine sent to the caller. */
  received: Buffer[];
  /** Sends an RTP packet from the caller's socket to the engine's RTP port. */
  sendRtp(packet: Buffer): Promise<void>;
}

/** Engine on `engineHost` (RTP in `ports`), caller on `callerHost` offering `offerMedia`; `cleanups` stop both. */
export async function rawCall(
  cleanups: Array<() => void | Promise<void>>,
  hosts: { engine: string; caller: string },
  ports: { minPort: number; maxPort: number },
  offerMedia: Omit<RawUac['offerMedia'], 'host'>,
  options: Partial<EngineOptions> = {}
): Promise<RawCall> {
  const { engine, sipPort, incoming } = await startAnsweringEngine(ports, {
    sip: { host: hosts.engine, port: 0, transports: ['udp'] },
    rtp: { host: hosts.engine, ...ports },
    ...options
  });
  cleanups.push(() => engine.stop());
  const phone = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => phone.bind(0, hosts.caller, () => resolve()));
  cleanups.push(() => void phone.close());
  const received: Buffer[] = [];
  phone.on('message', (packet) => received.push(packet));
  const uac = await new RawUac().open(hosts.caller);
  cleanups.push(() => uac.close());
  uac.engineHost = hosts.engine;
  uac.offerMedia = { ...offerMedia, host: hosts.caller };
  const final = await uac.invite(sipPort, [], phone.address().port);
  if (final.status !== 200) throw new Error(`the engine answered ${final.status}`);
  const channel = incoming[0];
  await waitFor(() => channel.state === State.ANSWERED, 5000);
  const enginePort = Number(/m=audio (\d+)/.exec(final.body.toString())?.[1]);
  return {
    uac,
    final,
    channel,
    received,
    sendRtp: (packet) =>
      new Promise((resolve, reject) =>
        phone.send(packet, enginePort, hosts.engine, (e) => (e ? reject(e) : resolve()))
      )
  };
}

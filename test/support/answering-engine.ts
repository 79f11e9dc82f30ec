/**
 * An engine on loopback UDP that answers every call it is offered, for tests whose raw peers and
 * phones call it or are called by it: the engine, its SIP port and the channels it answered.
 */
import { Engine, type EngineOptions, type UASCallChannel } from '../../engine/index.js';

/** `options` add to or replace the defaults (`sip.port` to bind a given port). */
export async function startAnsweringEngine(
  rtp: { minPort: number; maxPort: number },
  options: Partial<EngineOptions> = {}
): Promise<{ engine: Engine; sipPort: number; incoming: UASCallChannel[] }> {
  const engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp,
    logLevel: 'silent',
    ...options
  });
  const incoming: UASCallChannel[] = [];
  engine.on('call', (channel) => {
    incoming.push(channel);
    void channel.answer().catch(() => undefined);
  });
  await engine.start();
  const sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
  return { engine, sipPort, incoming };
}

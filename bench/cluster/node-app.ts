/**
 * One engine of the cluster benchmark, in its own process: a cluster member (or a plain engine
 * when no Redis is given) that answers every call and transfers it into the room named by the
 * request URI. Reports its CPU time on request, so the orchestrator measures the engines only.
 */
import { Engine, ConferenceLifetimeControl, ConferencePartyMediaSettings } from '../../engine/index.js';

export type ToBenchNode = { type: 'cpu' } | { type: 'stop' };
export type FromBenchNode =
  | { type: 'ready'; sipPort: number }
  | { type: 'cpu'; userUs: number; systemUs: number; trunkLegs: number; parties: number };

const send = (m: FromBenchNode): void => void process.send?.(m);
const host = process.env.BENCH_HOST ?? '127.0.0.1';
const redis = process.env.BENCH_REDIS;
const engine = new Engine({
  sip: { host, port: 0, transports: ['udp'] },
  rtp: {
    minPort: Number(process.env.BENCH_RTP_BASE ?? 52000),
    maxPort: Number(process.env.BENCH_RTP_BASE ?? 52000) + 1999
  },
  logLevel: 'warn',
  cluster: redis ? { redis, nodeId: process.env.BENCH_NODE_ID ?? host, leaseMs: 3000 } : undefined
});

engine.on('call', async (channel) => {
  const room = /sip:([A-Za-z0-9]+)@/.exec(channel.requestUri ?? '')?.[1] ?? 'x';
  await channel.answer();
  await channel.transferToConferenceRoom(engine.createChannel(), room, {
    conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
    conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false }),
    secondsTimeout: 30
  });
});

process.on('disconnect', () => process.exit(1));
process.on('message', (m: ToBenchNode) => {
  if (m.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    const text = engine.metrics.registry.getSingleMetric('uasmedia_cluster_trunk_legs');
    void Promise.resolve(text?.get()).then((metric) => {
      const trunkLegs = Number(metric?.values[0]?.value ?? 0);
      const parties = engine.rooms.rooms().reduce((n, r) => n + r.size, 0);
      send({ type: 'cpu', userUs: user, systemUs: system, trunkLegs, parties });
    });
  } else if (m.type === 'stop') void engine.stop().then(() => process.exit(0));
});

await engine.start();
send({ type: 'ready', sipPort: engine.sipAddresses()[0].port });

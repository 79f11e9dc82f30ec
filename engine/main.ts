/**
 * `npm start`: the engine on its embedded default (SIP on 127.0.0.1:5060, UDP and TCP) running
 * the meet-me example, and the join page for browsers on http://127.0.0.1:8088/ (SIP over
 * WebSocket on the same port). Override with UASMEDIA_SIP_HOST, UASMEDIA_ADVERTISED_ADDRESS, UASMEDIA_SIP_PORT,
 * UASMEDIA_WS_PORT, UASMEDIA_LOG_LEVEL, UASMEDIA_METRICS_PORT; who may call in and how many, and
 * the host names browsers may reach the join page by, with the variables of app/env-options.ts;
 * TLS, SRTP and latching with those of app/encryption-env.ts; the rooms' sample rate with
 * UASMEDIA_ROOM_SAMPLE_RATE and the RTP port range with UASMEDIA_RTP_MIN_PORT and
 * UASMEDIA_RTP_MAX_PORT (app/media-env.ts). Calls may play WAV files from
 * UASMEDIA_PLAY_FOLDER (default data/prompts) and record into UASMEDIA_RECORD_FOLDER (default
 * data/recordings), nowhere else. With UASMEDIA_CLUSTER_REDIS
 * (a unix socket path or redis:// URL) and UASMEDIA_NODE_ID it is a member of a cluster (see
 * `npm run cluster`). Ctrl-C (SIGINT) or SIGTERM shuts it down cleanly: every call (and so every
 * WebRTC peer connection) ends before process.exit, which @roamhq/wrtc needs to exit without
 * crashing.
 */
import { isIP } from 'node:net';
import { Engine } from './engine.js';
import { EngineError, InvalidArgumentError } from './errors.js';
import { meetMeInviteFilter, serveMeetMe } from './app/meet-me.js';
import { doorFromEnvironment, openDoorWarning } from './app/env-options.js';
import { encryptionOptionsFromEnv } from './app/encryption-env.js';
import { mediaFoldersFromEnv, mediaOptionsFromEnv, rtpPortsFromEnv } from './app/media-env.js';
import { listenSettingsFromEnv, portInUseHint } from './app/listen-env.js';
import { unknownVariableWarnings } from './app/env-names.js';

// Read first: a parent that dies while the engine starts must still be noticed (see parentWatch).
const parentPid = process.ppid;
// Behind NAT: the public address for Via/Contact and for every SDP (RTP may still bind 0.0.0.0).
const advertised = process.env.UASMEDIA_ADVERTISED_ADDRESS || undefined;
const clusterRedis = process.env.UASMEDIA_CLUSTER_REDIS;

let door: ReturnType<typeof doorFromEnvironment>;
let folders: ReturnType<typeof mediaFoldersFromEnv>;
let listen: ReturnType<typeof listenSettingsFromEnv>;
let encryption: ReturnType<typeof encryptionOptionsFromEnv>;
let media: ReturnType<typeof mediaOptionsFromEnv>;
let rtpPorts: ReturnType<typeof rtpPortsFromEnv>;
try {
  listen = listenSettingsFromEnv();
  door = doorFromEnvironment(process.env);
  encryption = encryptionOptionsFromEnv();
  media = mediaOptionsFromEnv();
  rtpPorts = rtpPortsFromEnv();
  folders = mediaFoldersFromEnv();
  if (advertised !== undefined && isIP(advertised) === 0)
    throw new InvalidArgumentError(
      'UASMEDIA_ADVERTISED_ADDRESS',
      `UASMEDIA_ADVERTISED_ADDRESS=${advertised} must be an IP address (SDP names one)`
    );
} catch (error) {
  console.error(`uasmedia: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const host = listen.host;
const warning = openDoorWarning(host, door);
if (warning) console.warn(warning);
for (const typo of unknownVariableWarnings(process.env)) console.warn(typo);

// A node id is [A-Za-z0-9._-]: '127.0.0.1-5060', or '--1-5060' for ::1.
const nodeId = process.env.UASMEDIA_NODE_ID ?? `${host}-${listen.port}`.replace(/[^A-Za-z0-9._-]/g, '-');
let engine: Engine;
try {
  engine = newEngine();
} catch (error) {
  // The engine's own checks of what the variables gave (a message, not a stack trace).
  console.error(`uasmedia: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
function newEngine(): Engine {
  return new Engine({
    sip: {
      host,
      port: listen.port,
      transports: ['udp', 'tcp'],
      tls: encryption.tls,
      advertisedHost: advertised
    },
    rtp: { ...encryption.rtp, ...rtpPorts, advertisedAddress: advertised },
    files: { playFolders: [folders.playFolder], recordFolder: folders.recordFolder },
    ...media,
    logLevel: listen.logLevel,
    metricsPort: listen.metricsPort,
    metricsHost: listen.metricsHost,
    ...(listen.metricsAllow && { metricsAllow: listen.metricsAllow }),
    webSocket: {
      port: listen.wsPort,
      joinPage: true,
      allowedHosts: door.allowedHosts,
      // Off loopback a browser gives the page a microphone only over HTTPS: the SIP certificate serves it.
      tls: encryption.tls && { cert: encryption.tls.cert, key: encryption.tls.key }
    },
    webrtc: door.webrtcTransports && { transports: door.webrtcTransports },
    inviteFilter: meetMeInviteFilter,
    access: door.access,
    callLimits: door.callLimits,
    overloadGuard: door.overloadGuard,
    registrations: door.registrations,
    cluster: clusterRedis
      ? {
          redis: clusterRedis,
          nodeId
        }
      : undefined
  });
}
engine.on('registration', (event) =>
  console.log(
    `registration ${event.aor}: ${event.state}${event.status ? ` (${event.status} ${event.reason})` : ''}`
  )
);
serveMeetMe(engine, { roomPins: door.roomPins });
try {
  await engine.start();
} catch (error) {
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof EngineError && error.code === 'ERR_INVALID_ARGUMENT') {
    console.error(`uasmedia: ${detail}`);
  } else {
    const hint = portInUseHint(detail, {
      UASMEDIA_SIP_PORT: listen.port,
      UASMEDIA_WS_PORT: listen.wsPort,
      UASMEDIA_TLS_PORT: encryption.tls?.port,
      UASMEDIA_METRICS_PORT: listen.metricsPort
    });
    console.error(`uasmedia could not start on ${host}:${listen.port}: ${detail}${hint}`);
  }
  process.exit(1);
}

let stopping = false;
async function shutdown(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(parentWatch);
  console.log(`\n${why}: hanging up every call and stopping ...`);
  await engine.stop();
  console.log('stopped.');
  process.exit(0);
}
// Handlers go in before the banner: whoever reads "Ctrl-C stops." may signal at once.
// `npm start` runs this as its direct child (the script execs node), so npm forwards SIGTERM
// and SIGINT here and waits for this process to exit.
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// A parent killed outright (SIGKILL) forwards nothing: once orphaned, stop as if told to.
const parentWatch = setInterval(() => {
  if (process.ppid !== parentPid) void shutdown('parent process gone');
}, 1000);
parentWatch.unref();

const bound = engine.sipAddresses();
const udp = bound.find((a) => a.protocol === 'udp')?.port ?? listen.port;
const ws = bound.find((a) => a.protocol === 'ws')?.port ?? listen.wsPort;
const tlsPort = bound.find((a) => a.protocol === 'tls')?.port;
if (tlsPort !== undefined)
  console.log(
    `SIP over TLS on ${host}:${tlsPort} (sip:<room>@${host}:${tlsPort};transport=tls); SRTP ${encryption.rtp.srtp}.`
  );
if (clusterRedis)
  // `npm run cluster` prints how to call the front; a member's own port is for the front to use.
  console.log(`uasmedia engine ${nodeId}, a member of the cluster at ${clusterRedis}: SIP on ${host}:${udp}.
Callers dial the cluster's front (its dispatcher), not this port.
Ctrl-C stops.`);
else
  console.log(`uasmedia meet-me conference server on sip:<room>@${host}:${udp} (UDP and TCP). Room names are alphanumeric.

Call it with SIPp (streams a G.711 recording into room 'demo'; SIPp looks for pcap/g711a.pcap):
  (cd "$(mktemp -d)" && ln -s /usr/share/sip-tester pcap && sipp -sn uac_pcap -s demo ${host}:${udp} -m 1)

or with baresip:
  baresip   then type:   /dial sip:demo@${host}:${udp}
  (in the room: 0 mutes, 1 unmutes, # leaves)

or from a browser (WebRTC, SIP over WebSocket):
  ${encryption.tls ? 'https' : 'http'}://${host}:${ws}/?room=demo
${listen.metricsPort !== undefined ? `\nPrometheus metrics on http://${listen.metricsHost.includes(':') ? `[${listen.metricsHost}]` : listen.metricsHost}:${listen.metricsPort}/metrics\n` : ''}
Ctrl-C stops.`);

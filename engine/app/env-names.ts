/**
 * The UASMEDIA_* variables `npm start` and `npm run cluster` read. Any other one set is most
 * likely a misspelling: it was ignored in silence (UASMEDIA_SIP_ALOW left the door open,
 * UASMEDIA_SIP_PROT bound port 5060), so start-up warns about it with the name it probably meant.
 */
import { closestKey } from '../util/option-keys.js';

const PREFIX = 'UASMEDIA_';

export const ENVIRONMENT_NAMES: readonly string[] = [
  'ADVERTISED_ADDRESS',
  'ALLOWED_HOSTS',
  'AUTH_REALM',
  'CALLS_PER_SECOND',
  'CALLS_PER_SECOND_PER_SOURCE',
  'CLUSTER_REDIS',
  'DISPATCH',
  'ENGINES',
  'ENGINE_BASE_PORT',
  'FRONT_ORIGINS',
  'LOG_LEVEL',
  'MAX_CALLS',
  'MAX_CALLS_PER_SOURCE',
  'METRICS_ALLOW',
  'METRICS_HOST',
  'METRICS_PORT',
  'NODE_ID',
  'OVERLOAD_GUARD',
  'PLAY_FOLDER',
  'RECORD_FOLDER',
  'REGISTER_AOR',
  'REGISTER_EXPIRES',
  'REGISTER_PASSWORD',
  'REGISTER_USER',
  'REGISTRAR',
  'ROOM_PINS',
  'ROOM_SAMPLE_RATE',
  'RTP_ALLOW',
  'RTP_DENY',
  'RTP_LATCHING',
  'RTP_MAX_PORT',
  'RTP_MIN_PORT',
  'SIP_ALLOW',
  'SIP_DENY',
  'SIP_HOST',
  'SIP_PORT',
  'SIP_REFUSE',
  'SIP_USERS',
  'SRTP',
  'TLS_CA',
  'TLS_CERT',
  'TLS_KEY',
  'TLS_PORT',
  'TRUSTED_PROXIES',
  'WEBRTC_TRANSPORTS',
  'WS_PORT'
].map((name) => PREFIX + name);

/** One warning per UASMEDIA_* variable in `env` that nothing reads, naming the one it probably meant. */
export function unknownVariableWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith(PREFIX) && !ENVIRONMENT_NAMES.includes(name))
    .map((name) => {
      const meant = closestKey(
        name.slice(PREFIX.length),
        ENVIRONMENT_NAMES.map((n) => n.slice(PREFIX.length))
      );
      const hint = meant === undefined ? '' : ` (did you mean ${PREFIX}${meant}?)`;
      return `WARNING: ${name} is not a variable uasmedia reads${hint}; it is ignored.`;
    });
}

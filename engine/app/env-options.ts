/**
 * The door of `npm start`, from environment variables (documented in README.md):
 *
 *   UASMEDIA_SIP_ALLOW / UASMEDIA_SIP_DENY     CIDR lists, comma-separated, for SIP sources
 *   UASMEDIA_SIP_REFUSE                        'forbidden' (403, default) or 'silent'
 *   UASMEDIA_TRUSTED_PROXIES                   CIDR list of proxies that name their callers
 *   UASMEDIA_RTP_ALLOW / UASMEDIA_RTP_DENY     CIDR lists for RTP/RTCP sources
 *   UASMEDIA_SIP_USERS                         'alice:secret,bob:pw': digest auth of every call
 *   UASMEDIA_AUTH_REALM                        digest realm (default 'uasmedia')
 *   UASMEDIA_MAX_CALLS, UASMEDIA_MAX_CALLS_PER_SOURCE,
 *   UASMEDIA_CALLS_PER_SECOND, UASMEDIA_CALLS_PER_SECOND_PER_SOURCE   call ceilings
 *   UASMEDIA_OVERLOAD_GUARD                    'off' to turn the guard off (on by default)
 *   UASMEDIA_ROOM_PINS                         'room42=1234,sales=9999'
 *   UASMEDIA_ALLOWED_HOSTS                     host names browsers may reach the join page by
 *   UASMEDIA_WEBRTC_TRANSPORTS                 'ws,udp': SIP transports a WebRTC offer is taken over
 *   UASMEDIA_REGISTRAR, UASMEDIA_REGISTER_AOR, UASMEDIA_REGISTER_USER,
 *   UASMEDIA_REGISTER_PASSWORD, UASMEDIA_REGISTER_EXPIRES              one upstream registration
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.js';
import type { EngineOptions } from '../engine.js';
import type { AccessOptions } from '../admission/door.js';
import { isAllowedHostEntry } from '../webrtc/websocket-options.js';
import { WEBRTC_TRANSPORTS, isWebRtcTransport, type WebRtcTransport } from '../webrtc/webrtc-options.js';
import { parseRoomPins } from './room-pins.js';
import { cidrsFrom } from './listen-env.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface DoorFromEnvironment {
  access: AccessOptions | undefined;
  callLimits: EngineOptions['callLimits'];
  overloadGuard: boolean;
  roomPins: Map<string, string>;
  registrations: NonNullable<EngineOptions['registrations']>;
  /** `webSocket.allowedHosts`: names besides IP addresses and localhost the join page answers to. */
  allowedHosts: string[] | undefined;
  /** `webrtc.transports`: besides WebSocket, 'udp' for browsers behind the cluster's Kamailio front. */
  webrtcTransports: WebRtcTransport[] | undefined;
}

export function doorFromEnvironment(env: Environment): DoorFromEnvironment {
  const access: AccessOptions = {};
  const sipAllow = sourceList(env, 'UASMEDIA_SIP_ALLOW');
  const sipDeny = sourceList(env, 'UASMEDIA_SIP_DENY');
  const refuse = env.UASMEDIA_SIP_REFUSE;
  if (refuse !== undefined && refuse !== 'forbidden' && refuse !== 'silent') {
    throw new InvalidArgumentError(
      'UASMEDIA_SIP_REFUSE',
      `UASMEDIA_SIP_REFUSE must be 'forbidden' or 'silent', got '${refuse}'`
    );
  }
  if (sipAllow || sipDeny) access.sip = { allow: sipAllow, deny: sipDeny, refuse };
  const proxies = sourceList(env, 'UASMEDIA_TRUSTED_PROXIES');
  if (proxies) access.trustedProxies = proxies;
  const rtpAllow = sourceList(env, 'UASMEDIA_RTP_ALLOW');
  const rtpDeny = sourceList(env, 'UASMEDIA_RTP_DENY');
  if (rtpAllow || rtpDeny) access.rtp = { allow: rtpAllow, deny: rtpDeny };
  const users = parseUsers(env.UASMEDIA_SIP_USERS);
  if (users.size > 0) {
    access.auth = {
      realm: env.UASMEDIA_AUTH_REALM ?? 'uasmedia',
      credentials: (_realm, username) => {
        const password = users.get(username);
        return password === undefined ? undefined : { password };
      }
    };
  }
  const callLimits = {
    maxCalls: count(env, 'UASMEDIA_MAX_CALLS'),
    maxCallsPerSource: count(env, 'UASMEDIA_MAX_CALLS_PER_SOURCE'),
    callsPerSecond: count(env, 'UASMEDIA_CALLS_PER_SECOND'),
    callsPerSecondPerSource: count(env, 'UASMEDIA_CALLS_PER_SECOND_PER_SOURCE')
  };
  const anyLimit = Object.values(callLimits).some((value) => value !== undefined);
  const guard = env.UASMEDIA_OVERLOAD_GUARD;
  if (guard !== undefined && guard !== 'on' && guard !== 'off') {
    throw new InvalidArgumentError(
      'UASMEDIA_OVERLOAD_GUARD',
      `UASMEDIA_OVERLOAD_GUARD must be 'on' or 'off', got '${guard}'`
    );
  }
  return {
    access: Object.keys(access).length > 0 ? access : undefined,
    callLimits: anyLimit ? callLimits : undefined,
    overloadGuard: guard !== 'off',
    roomPins: parseRoomPins(env.UASMEDIA_ROOM_PINS),
    registrations: registrationsOf(env),
    allowedHosts: allowedHostsOf(env.UASMEDIA_ALLOWED_HOSTS),
    webrtcTransports: webrtcTransportsOf(env.UASMEDIA_WEBRTC_TRANSPORTS)
  };
}

function webrtcTransportsOf(value: string | undefined): WebRtcTransport[] | undefined {
  const transports = list(value);
  if (transports === undefined) return undefined;
  const unknown = transports.find((t) => !isWebRtcTransport(t));
  if (unknown !== undefined)
    throw new InvalidArgumentError(
      'UASMEDIA_WEBRTC_TRANSPORTS',
      `UASMEDIA_WEBRTC_TRANSPORTS must list ${WEBRTC_TRANSPORTS.join(', ')}; got '${unknown}'`
    );
  return transports as WebRtcTransport[];
}

/** Whether `host` is reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** The warning `npm start` prints when it listens beyond loopback with nobody kept out, or undefined. */
export function openDoorWarning(host: string, door: DoorFromEnvironment): string | undefined {
  if (isLoopbackHost(host) || door.access?.sip !== undefined || door.access?.auth !== undefined)
    return undefined;
  return (
    `WARNING: SIP is listening on ${host} with no access control: anyone who reaches this address can join any room ` +
    `and listen. Set UASMEDIA_SIP_ALLOW (e.g. 192.168.1.0/24) and/or UASMEDIA_SIP_USERS (user:password,...).`
  );
}

function registrationsOf(env: Environment): DoorFromEnvironment['registrations'] {
  const registrar = env.UASMEDIA_REGISTRAR;
  if (registrar === undefined || registrar.trim() === '') return [];
  const aor = env.UASMEDIA_REGISTER_AOR;
  if (aor === undefined)
    throw new InvalidArgumentError(
      'UASMEDIA_REGISTER_AOR',
      'UASMEDIA_REGISTRAR needs UASMEDIA_REGISTER_AOR (e.g. sip:room42@trunk.example.org)'
    );
  const username = env.UASMEDIA_REGISTER_USER;
  const password = env.UASMEDIA_REGISTER_PASSWORD;
  if ((username === undefined) !== (password === undefined)) {
    throw new InvalidArgumentError(
      'UASMEDIA_REGISTER_USER',
      'UASMEDIA_REGISTER_USER and UASMEDIA_REGISTER_PASSWORD go together'
    );
  }
  return [
    {
      registrar: registrar.trim(),
      aor: aor.trim(),
      username,
      password,
      expiresSeconds: count(env, 'UASMEDIA_REGISTER_EXPIRES')
    }
  ];
}

/** A CIDR list checked here, naming its variable: a bad entry had stopped start-up with a stack trace. */
function sourceList(env: Environment, name: string): string[] | undefined {
  return list(env[name]) === undefined ? undefined : cidrsFrom(env, name);
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function allowedHostsOf(value: string | undefined): string[] | undefined {
  const hosts = list(value);
  for (const host of hosts ?? []) {
    if (!isAllowedHostEntry(host))
      throw new InvalidArgumentError(
        'UASMEDIA_ALLOWED_HOSTS',
        `UASMEDIA_ALLOWED_HOSTS entry '${host.slice(0, 60)}' must be a host name without scheme or port (myhost, pbx.example.com, *.example.com)`
      );
  }
  return hosts;
}

function parseUsers(value: string | undefined): Map<string, string> {
  const users = new Map<string, string>();
  for (const entry of list(value) ?? []) {
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1) {
      throw new InvalidArgumentError(
        'UASMEDIA_SIP_USERS',
        `UASMEDIA_SIP_USERS entry '${entry.slice(0, 40)}' must be user:password`
      );
    }
    users.set(entry.slice(0, colon), entry.slice(colon + 1));
  }
  return users;
}

function count(env: Environment, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(name, `${name} must be a whole number of 1 or more, got '${value}'`);
  return n;
}

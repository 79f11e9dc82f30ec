import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package that provides each external peer the interop tests drive. */
const PACKAGE_OF: Record<string, string> = {
  sipp: 'sip-tester',
  baresip: 'baresip-core',
  sox: 'sox',
  chromium: 'chromium',
  kamailio: 'kamailio',
  'kamailio-tls': 'kamailio-tls-modules',
  'kamailio-websocket': 'kamailio-websocket-modules',
  openssl: 'openssl',
  tcpdump: 'tcpdump',
  'redis-server': 'redis-server'
};

/** Peers that are a file rather than a command (a Kamailio module). */
const FILE_OF: Record<string, string> = {
  'kamailio-tls': '/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so',
  'kamailio-websocket': '/usr/lib/x86_64-linux-gnu/kamailio/modules/websocket.so'
};

function onPath(command: string): boolean {
  const file = FILE_OF[command];
  if (file !== undefined) return existsSync(file);
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether an external peer program is installed. In CI (CI=true) a missing peer is an error, so
 * the suite fails instead of silently skipping; on a developer machine the caller skips and the
 * message says what to install.
 */
export function hasPeer(command: string): boolean {
  if (onPath(command)) return true;
  const hint = `'${command}' is not installed: apt-get install -y ${PACKAGE_OF[command] ?? command}`;
  if (process.env.CI === 'true') throw new Error(`${hint} (required in CI)`);
  console.warn(`skipping: ${hint}`);
  return false;
}

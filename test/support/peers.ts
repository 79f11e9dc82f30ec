import { execFileSync } from 'node:child_process';

/** Debian package that provides each external peer the interop tests drive. */
const PACKAGE_OF: Record<string, string> = {
  sipp: 'sip-tester',
  baresip: 'baresip-core',
  sox: 'sox',
  chromium: 'chromium',
  kamailio: 'kamailio',
  openssl: 'openssl',
  tcpdump: 'tcpdump',
  'redis-server': 'redis-server'
};

function onPath(command: string): boolean {
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

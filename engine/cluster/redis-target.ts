/**
 * Where the cluster directory's Redis is, in the package's own terms: its declarations do not
 * load ioredis's, so an application type-checks against this package whatever ioredis release
 * npm installed beside it (ioredis 6.1's declarations import an untyped module, an error under
 * `strict` without `skipLibCheck`).
 */
import type { ConnectionOptions } from 'node:tls';

/** How to reach Redis; the fields are ioredis's, and any other ioredis option is passed on as it is. */
export interface RedisConnectionOptions {
  host?: string;
  port?: number;
  /** A unix socket path. */
  path?: string;
  username?: string;
  password?: string;
  db?: number;
  /** Connect over TLS with these options. */
  tls?: ConnectionOptions;
  connectTimeout?: number;
  /** Another ioredis option (sentinels, family, ...), passed to ioredis unchecked. */
  [option: string]: unknown;
}

/** A unix socket path, a redis:// or rediss:// URL, or connection options. */
export type RedisTarget = string | RedisConnectionOptions;

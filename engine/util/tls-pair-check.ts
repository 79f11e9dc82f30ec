/**
 * A certificate and key given to the engine are checked when it is constructed, as every other
 * option is: a file that is not PEM, or a key that is not the certificate's, failed `start()`
 * with OpenSSL's bare message and nothing naming the option.
 */
import { createSecureContext } from 'node:tls';

export function checkTlsPair(
  option: string,
  pair: { cert?: unknown; key?: unknown; ca?: unknown } | undefined
): void {
  if (pair === undefined) return;
  try {
    createSecureContext({
      cert: pair.cert as string | Buffer,
      key: pair.key as string | Buffer,
      ca: pair.ca as string | Buffer | undefined
    });
  } catch (error) {
    throw new TypeError(
      `EngineOptions.${option} needs a PEM certificate and its own private key: ${(error as Error).message}`
    );
  }
}

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptionOptionsFromEnv } from '../../engine/app/encryption-env.js';
import { makeTestCertificate, type TestCertificate } from '../support/tls-certificate.js';
import { hasPeer } from '../support/peers.js';

let certificate: TestCertificate | undefined;
afterAll(() => certificate?.remove());

describe('npm start encryption settings from the environment', () => {
  it('defaults to no TLS, SRTP off and strict latching', () => {
    expect(encryptionOptionsFromEnv({})).toEqual({ rtp: { srtp: 'off', latching: 'strict' } });
  });

  it('reads the SRTP policy and latching mode, refusing values it does not know', () => {
    expect(
      encryptionOptionsFromEnv({ UASMEDIA_SRTP: 'required', UASMEDIA_RTP_LATCHING: 'first-packet' }).rtp
    ).toEqual({ srtp: 'required', latching: 'first-packet' });
    expect(() => encryptionOptionsFromEnv({ UASMEDIA_SRTP: 'yes' })).toThrow(
      /UASMEDIA_SRTP=yes must be one of off, offered, required/
    );
    expect(() => encryptionOptionsFromEnv({ UASMEDIA_RTP_LATCHING: 'loose' })).toThrow(
      /UASMEDIA_RTP_LATCHING/
    );
  });

  it.runIf(hasPeer('openssl'))(
    'turns TLS on with a certificate and key file, and says which file is missing or unreadable',
    () => {
      certificate = makeTestCertificate();
      const options = encryptionOptionsFromEnv({
        UASMEDIA_TLS_CERT: certificate.certPath,
        UASMEDIA_TLS_KEY: certificate.keyPath,
        UASMEDIA_TLS_PORT: '0'
      });
      expect(options.tls?.port).toBe(0);
      expect(Buffer.from(options.tls!.cert).equals(certificate.cert)).toBe(true);
      expect(() => encryptionOptionsFromEnv({ UASMEDIA_TLS_CERT: certificate!.certPath })).toThrow(
        /given together/
      );
      const missing = join(certificate.dir, 'missing.pem');
      expect(() =>
        encryptionOptionsFromEnv({ UASMEDIA_TLS_CERT: missing, UASMEDIA_TLS_KEY: certificate!.keyPath })
      ).toThrow(/UASMEDIA_TLS_CERT=.*missing\.pem cannot be read/);
      expect(() =>
        encryptionOptionsFromEnv({
          UASMEDIA_TLS_CERT: certificate!.certPath,
          UASMEDIA_TLS_KEY: certificate!.keyPath,
          UASMEDIA_TLS_PORT: 'abc'
        })
      ).toThrow(/UASMEDIA_TLS_PORT/);
    }
  );
});

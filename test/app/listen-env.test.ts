/**
 * Where `npm start` listens and its log level, from the environment: a bad value stops start-up
 * with a message naming the variable, as every other variable's does, and an empty one counts as
 * unset. Before, `UASMEDIA_SIP_PORT=abc` stopped it with a stack trace naming
 * `EngineOptions.sip.port`, `UASMEDIA_SIP_PORT=` bound a random port, and
 * `UASMEDIA_LOG_LEVEL=verbose` was reported as an option.
 */
import { describe, expect, it } from 'vitest';
import { listenSettingsFromEnv, portInUseHint } from '../../engine/app/listen-env.js';
import { EngineError } from '../../engine/errors.js';

const messageOf = (env: Record<string, string>): string | undefined => {
  try {
    listenSettingsFromEnv(env);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('ERR_INVALID_ARGUMENT');
    return (error as Error).message;
  }
};

describe("npm start's ports and log level from the environment", () => {
  it('takes the defaults for unset or empty variables, and ports 0-65535 (0: any free one)', () => {
    const defaults = {
      host: '127.0.0.1',
      port: 5060,
      wsPort: 8088,
      metricsPort: undefined,
      metricsHost: '127.0.0.1',
      metricsAllow: undefined,
      logLevel: 'info'
    };
    expect(listenSettingsFromEnv({})).toEqual(defaults);
    expect(
      listenSettingsFromEnv({
        UASMEDIA_SIP_HOST: '',
        UASMEDIA_SIP_PORT: '',
        UASMEDIA_WS_PORT: '',
        UASMEDIA_METRICS_PORT: '',
        UASMEDIA_METRICS_HOST: '',
        UASMEDIA_METRICS_ALLOW: '',
        UASMEDIA_LOG_LEVEL: ''
      })
    ).toEqual(defaults);
    expect(
      listenSettingsFromEnv({
        UASMEDIA_SIP_HOST: '0.0.0.0',
        UASMEDIA_SIP_PORT: '0',
        UASMEDIA_WS_PORT: '65535',
        UASMEDIA_METRICS_PORT: '9100',
        UASMEDIA_METRICS_HOST: '0.0.0.0',
        UASMEDIA_METRICS_ALLOW: '10.1.2.3, 192.168.0.0/16',
        UASMEDIA_LOG_LEVEL: 'WARN'
      })
    ).toEqual({
      host: '0.0.0.0',
      port: 0,
      wsPort: 65535,
      metricsPort: 9100,
      metricsHost: '0.0.0.0',
      metricsAllow: ['10.1.2.3', '192.168.0.0/16'],
      logLevel: 'warn'
    });
  });

  it('refuses a bad value, naming the variable', () => {
    // Empty had bound every interface (and every call failed); a space, a stack trace.
    expect(messageOf({ UASMEDIA_SIP_HOST: ' ' })).toBe(
      "UASMEDIA_SIP_HOST=' ' must be an address or host name (0.0.0.0 for every interface)"
    );
    expect(messageOf({ UASMEDIA_SIP_PORT: 'abc' })).toBe(
      'UASMEDIA_SIP_PORT=abc must be a port number from 0 to 65535'
    );
    expect(messageOf({ UASMEDIA_WS_PORT: '99999' })).toBe(
      'UASMEDIA_WS_PORT=99999 must be a port number from 0 to 65535'
    );
    expect(messageOf({ UASMEDIA_METRICS_PORT: '-1' })).toMatch(/^UASMEDIA_METRICS_PORT=-1 must be/);
    expect(messageOf({ UASMEDIA_METRICS_HOST: 'metrics.example.com' })).toBe(
      'UASMEDIA_METRICS_HOST=metrics.example.com must be an IP address (0.0.0.0 for every interface)'
    );
    expect(messageOf({ UASMEDIA_METRICS_ALLOW: '10.0.0.0/8,prometheus' })).toBe(
      "UASMEDIA_METRICS_ALLOW=10.0.0.0/8,prometheus: UASMEDIA_METRICS_ALLOW list entry 'prometheus' must be an IPv4 or IPv6 address or CIDR block"
    );
    expect(messageOf({ UASMEDIA_SIP_PORT: '5060.5' })).toMatch(/^UASMEDIA_SIP_PORT=5060.5 must be/);
    expect(messageOf({ UASMEDIA_LOG_LEVEL: 'verbose' })).toBe(
      'UASMEDIA_LOG_LEVEL=verbose must be one of fatal, error, warn, info, debug, trace, silent'
    );
  });
});

describe("npm start's hint for a port in use", () => {
  const ports = { UASMEDIA_SIP_PORT: 5060, UASMEDIA_WS_PORT: 8088, UASMEDIA_METRICS_PORT: undefined };
  it('names the variable of the port the error names, not always the SIP port', () => {
    expect(
      portInUseHint(
        'cannot bind SIP transports: listen EADDRINUSE: address already in use 127.0.0.1:8088',
        ports
      )
    ).toBe(
      '\nIs another server using port 8088? Choose another with UASMEDIA_WS_PORT, as UASMEDIA_WS_PORT=8098 npm start'
    );
    expect(portInUseHint('cannot bind SIP transports: bind EADDRINUSE ::1:5060', ports)).toMatch(
      /port 5060\? Choose another with UASMEDIA_SIP_PORT/
    );
    expect(portInUseHint('cannot bind SIP transports: bind EADDRNOTAVAIL 10.9.9.9:5060', ports)).toBe('');
  });
});

/**
 * The engine's registrations to upstream registrars and trunks (`EngineOptions.registrations`):
 * started with the SIP user agent, reported as `'registration'` events, and unregistered when
 * the user agent closes on `stop()`.
 */
import type { Registration, RegistrationOptions, RegistrationState, SipUserAgent } from '../../sip/index.js';

export interface RegistrationEvent {
  aor: string;
  state: 'registered' | 'failed' | 'unregistered';
  /** Granted expiry, when registered. */
  expiresSeconds?: number;
  /** The failing response, and when the next try is. */
  status?: number;
  reason?: string;
  retryInSeconds?: number;
}

export interface RegistrationStatus {
  aor: string;
  registrar: string;
  state: RegistrationState;
  grantedSeconds: number;
  /** Successful REGISTERs: the first and every refresh. */
  registrations: number;
}

export class UpstreamRegistrations {
  readonly #registrations: Registration[] = [];

  start(
    userAgent: SipUserAgent,
    options: readonly RegistrationOptions[],
    report: (event: RegistrationEvent) => void
  ): void {
    for (const option of options) {
      const registration = userAgent.register(option);
      const aor = registration.aor;
      registration.on('registered', ({ expiresSeconds }) =>
        report({ aor, state: 'registered', expiresSeconds })
      );
      registration.on('failed', ({ status, reason, retryInSeconds }) =>
        report({ aor, state: 'failed', status, reason, retryInSeconds })
      );
      registration.on('unregistered', () => report({ aor, state: 'unregistered' }));
      this.#registrations.push(registration);
    }
  }

  status(): RegistrationStatus[] {
    return this.#registrations.map((r) => ({
      aor: r.aor,
      registrar: r.registrar,
      state: r.state,
      grantedSeconds: r.grantedSeconds,
      registrations: r.registrations
    }));
  }
}

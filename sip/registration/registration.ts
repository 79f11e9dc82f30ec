/**
 * Registration as a UAC to an upstream registrar or trunk (RFC 3261 §10.2): REGISTER binds our
 * Contact to an address-of-record, answers 401/407 with digest credentials, refreshes before
 * the granted expiry runs out (§10.2.4), backs off exponentially after failures (never sooner
 * than a Retry-After, §21.5.4), follows 423 Interval Too Brief's Min-Expires (§10.3 step 7), and
 * on stop removes the binding (Expires: 0, §10.2.2). One Call-ID for the life of the registration, CSeq growing by one (§10.2).
 */
import { randomBytes } from 'node:crypto';
import { ChallengeAnswers, type ClientCredentials } from '../auth/challenge-answers.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import { parseNameAddr, parseNameAddrList, type NameAddr } from '../message/name-addr.js';
import { bareHost, isSipUri, parseUri, type AbsoluteUri, type SipUri } from '../message/uri.js';
import { sameSipUri } from '../message/uri-equal.js';
import type { SessionHost } from '../session/session-host.js';
import { retryAfterSeconds } from '../session/refresh-retry.js';
import type { TimerHandle } from '../transaction/timers.js';
import type { Destination } from '../transport/routing.js';
import type { MessageSource, TransportProtocol } from '../transport/transport.js';
import { SafeEmitter } from '../safe-emitter.js';

export interface RegistrationOptions {
  /** Where REGISTER goes: `sip:registrar.example.org` or `sip:192.0.2.1:5060;transport=tcp`. */
  registrar: string;
  /** The address-of-record to bind, e.g. `sip:engine@example.org`. */
  aor: string;
  username?: string;
  password?: string;
  /** Answer only a challenge of this realm (the registrar's), so no one else can obtain our answer. */
  realm?: string;
  /** Expiry asked for (default 600 s); the registrar's grant is what counts. */
  expiresSeconds?: number;
  /** User part of our Contact (default: the AOR's), so calls routed to it keep the number. */
  contactUser?: string;
  /** First retry after a failure (default 5 s), doubling up to `maxRetrySeconds` (default 300 s). */
  retrySeconds?: number;
  maxRetrySeconds?: number;
}

/** The longest Retry-After followed: a broken or hostile value must not end the registration for good. */
const MAX_RETRY_AFTER_SECONDS = 3600;

export type RegistrationState = 'new' | 'registering' | 'registered' | 'failed' | 'unregistering' | 'stopped';

export type RegistrationEvents = {
  registered: [info: { expiresSeconds: number; refreshInSeconds: number }];
  failed: [info: { status: number; reason: string; retryInSeconds: number }];
  unregistered: [];
};

/**
 * Throws TypeError or RangeError for options no REGISTER could be made from; `prefix` names
 * where they came from in an error. Returns the expiry asked for.
 */
export function checkRegistrationOptions(options: RegistrationOptions, prefix = ''): number {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${prefix}registration options must be an object`);
  for (const [name, uri] of [
    ['registrar', options.registrar],
    ['aor', options.aor]
  ] as const) {
    let ok = false;
    try {
      ok = typeof uri === 'string' && isSipUri(parseUri(uri));
    } catch {
      ok = false;
    }
    if (!ok) throw new TypeError(`${prefix}${name} '${String(uri)}' must be a sip: or sips: URI`);
  }
  const expires = options.expiresSeconds ?? 600;
  if (!Number.isInteger(expires) || expires < 1)
    throw new RangeError(`${prefix}expiresSeconds must be a whole number of seconds >= 1, got ${expires}`);
  if ((options.username === undefined) !== (options.password === undefined))
    throw new TypeError(`${prefix}username and password go together`);
  return expires;
}

export class Registration extends SafeEmitter<RegistrationEvents> {
  readonly aor: string;
  readonly registrar: string;
  readonly #host: SessionHost;
  #protocol: TransportProtocol;
  /** Settles once the registrar's NAPTR records have chosen the transport, if they were asked (RFC 3263 §4.1). */
  readonly #transportChosen: Promise<void> | undefined;
  readonly #options: RegistrationOptions;
  readonly #callId = `${randomBytes(10).toString('hex')}@uasmedia`;
  readonly #fromTag = randomBytes(6).toString('hex');
  #cseq = 0;
  #expiresSeconds: number;
  #state: RegistrationState = 'new';
  #timer: TimerHandle | undefined;
  /** The REGISTER under way, if any (stop() waits for it: it may bind us). */
  #inFlight: Promise<SipResponse> | undefined;
  #failures = 0;
  /** Our answers to the challenges met: an outbound proxy's (407) and the registrar's (401), §22.3; reused by each refresh. */
  #answers: ChallengeAnswers | undefined;
  #grantedSeconds = 0;
  /** 423 Interval Too Brief answers followed in a row (§10.2.8). */
  #briefRetries = 0;
  #registrations = 0;
  /** Where the last 2xx to our REGISTER came from: the carrier's side, whose calls to us may challenge our requests. */
  #registeredAt: MessageSource | undefined;

  constructor(
    host: SessionHost,
    protocol: TransportProtocol,
    options: RegistrationOptions,
    transport?: Promise<TransportProtocol | undefined>
  ) {
    super();
    const expires = checkRegistrationOptions(options);
    this.#host = host;
    this.#protocol = protocol;
    this.#transportChosen = transport?.then(
      (chosen) => {
        if (chosen !== undefined) this.#protocol = chosen;
      },
      () => undefined
    );
    this.#options = options;
    this.aor = options.aor;
    this.registrar = options.registrar;
    this.#expiresSeconds = expires;
    this.#answers = this.#newAnswers();
  }

  get state(): RegistrationState {
    return this.#state;
  }

  /** What the registrar granted last (0 before the first success). */
  get grantedSeconds(): number {
    return this.#grantedSeconds;
  }

  /** Successful REGISTERs so far (the first and each refresh). */
  get registrations(): number {
    return this.#registrations;
  }

  /**
   * Our credentials for a request that goes to `hop`, when that is the registrar that bound us,
   * over the transport it answered on: by the address its 2xx came from, or by the host name of
   * `registrar`. A carrier challenges our BYE (or re-INVITE) of a call it placed to us; anyone
   * else who asks gets nothing, or a caller that names its own Contact could collect a digest of
   * our password to attack offline.
   */
  credentialsToward(hop: Destination): ClientCredentials | undefined {
    const { username, password, realm } = this.#options;
    const at = this.#registeredAt;
    if (username === undefined || password === undefined || !at || hop.protocol !== at.protocol)
      return undefined;
    const registrar = parseUri(this.registrar);
    const host = hop.host.toLowerCase();
    const named = isSipUri(registrar) && bareHost(registrar.host).toLowerCase() === host;
    return named || host === bareHost(at.host).toLowerCase() ? { username, password, realm } : undefined;
  }

  start(): void {
    if (this.#state !== 'new') return;
    void this.#register();
  }

  /** Removes the binding (REGISTER with Expires: 0) and stops refreshing. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'unregistering') return;
    let bound = this.#registrations > 0;
    const inFlight = this.#inFlight;
    this.#clearTimer();
    this.#state = 'unregistering';
    // A REGISTER under way may still bind us: its answer decides, or the registrar would route
    // calls to a stopped engine for the whole grant.
    if (!bound && inFlight !== undefined) {
      const response = await inFlight.catch(() => undefined);
      bound = response !== undefined && response.status >= 200 && response.status < 300;
    }
    if (bound) {
      try {
        const response = await this.#send(0);
        if (response.status >= 200 && response.status < 300) this.safeEmit('unregistered');
      } catch (error) {
        this.#host.logger.warn({ aor: this.aor, err: String(error) }, 'unregister failed');
      }
    }
    this.#state = 'stopped';
    this.removeAllListeners();
  }

  async #register(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'unregistering') return;
    this.#state = 'registering';
    let response: SipResponse;
    try {
      this.#inFlight = this.#send(this.#expiresSeconds);
      response = await this.#inFlight;
    } catch (error) {
      // Stopped while it was in flight: no retry may bring it back.
      if (this.#state === 'registering') this.#fail(503, `cannot send REGISTER: ${(error as Error).message}`);
      return;
    }
    if (this.#state !== 'registering') return;
    if (response.status >= 200 && response.status < 300) {
      this.#registered(response);
      return;
    }
    if (response.status === 423) {
      const minimum = Number(response.get('Min-Expires'));
      // Followed at once, but twice in a row at most: a registrar that keeps raising its minimum
      // gets the failure backoff, not a flood.
      if (Number.isInteger(minimum) && minimum > this.#expiresSeconds && this.#briefRetries < 2) {
        this.#briefRetries++;
        this.#expiresSeconds = minimum;
        void this.#register();
        return;
      }
    }
    this.#fail(response.status, response.reason, retryAfterSeconds(response));
  }

  /**
   * One REGISTER and its authenticated retries (§22.2), with ChallengeAnswers' rules: every
   * answer so far goes with each retry (§22.3), so an outbound proxy's 407 and then the
   * registrar's 401 both get theirs; a realm that challenges again in one exchange has refused
   * our answer (unless its nonce was only stale), and that response is the outcome. A refresh
   * starts with the answers of the last exchange, the nonce with its next count (RFC 7616 §3.4).
   */
  async #send(expiresSeconds: number): Promise<SipResponse> {
    await this.#transportChosen;
    const digest = { method: 'REGISTER', uri: this.registrar };
    let request = this.#request(expiresSeconds, this.#answers?.reuse(digest));
    for (;;) {
      const response = await this.#host.sendRequest(request, { protocol: this.#protocol });
      if (response.status !== 401 && response.status !== 407) return response;
      const authorizations = this.#answers?.answer(response, digest);
      if (!authorizations) return response;
      request = this.#request(expiresSeconds, authorizations);
    }
  }

  #newAnswers(): ChallengeAnswers | undefined {
    const { username, password, realm } = this.#options;
    return username === undefined || password === undefined
      ? undefined
      : new ChallengeAnswers({ username, password, realm });
  }

  #request(expiresSeconds: number, authorizations: Array<[string, string]> = []): SipRequest {
    const request = new SipRequest('REGISTER', this.registrar);
    request.add('Max-Forwards', '70');
    request.add('From', `<${this.aor}>;tag=${this.#fromTag}`);
    request.add('To', `<${this.aor}>`);
    request.add('Call-ID', this.#callId);
    request.add('CSeq', `${++this.#cseq} REGISTER`);
    request.add('Contact', this.#contact());
    request.add('Expires', String(expiresSeconds));
    for (const [header, value] of authorizations) request.add(header, value);
    return request;
  }

  #contact(): string {
    const aor = parseUri(this.aor);
    const user = this.#options.contactUser ?? (isSipUri(aor) ? aor.user : undefined) ?? 'uasmedia';
    return this.#host.contact(this.#protocol).replace(/^<sip:[^@<>]*@/, `<sip:${user}@`);
  }

  #registered(response: SipResponse): void {
    const granted = grantedExpiry(response, this.#contact()) ?? this.#expiresSeconds;
    // A 2xx that grants 0 s binds nothing: a failure, with its backoff, not a refresh a second.
    if (granted === 0) {
      this.#fail(response.status, 'the registrar granted 0 seconds');
      return;
    }
    this.#grantedSeconds = granted;
    this.#registeredAt = response.receivedFrom;
    this.#registrations++;
    this.#failures = 0;
    this.#briefRetries = 0;
    this.#state = 'registered';
    // §10.2.4 leaves the margin to us: half of a short grant, a minute before a long one runs out.
    const refreshIn = granted <= 120 ? Math.max(1, granted / 2) : granted - 60;
    this.#schedule(refreshIn);
    this.safeEmit('registered', { expiresSeconds: granted, refreshInSeconds: refreshIn });
  }

  /** `retryAfter`: the registrar's Retry-After, if it gave one: no retry comes before it (§21.5.4). */
  #fail(status: number, reason: string, retryAfter?: number): void {
    this.#state = 'failed';
    this.#answers = this.#newAnswers();
    // After the backoff a raised Min-Expires is followed again (twice in a row at most).
    this.#briefRetries = 0;
    const first = this.#options.retrySeconds ?? 5;
    const backoff = Math.min(this.#options.maxRetrySeconds ?? 300, first * 2 ** this.#failures);
    const retryIn = Math.max(backoff, Math.min(retryAfter ?? 0, MAX_RETRY_AFTER_SECONDS));
    this.#failures++;
    this.#host.logger.warn(
      { aor: this.aor, registrar: this.registrar, status, reason, retryInSeconds: retryIn },
      'registration failed'
    );
    this.#schedule(retryIn);
    this.safeEmit('failed', { status, reason, retryInSeconds: retryIn });
  }

  #schedule(seconds: number): void {
    this.#clearTimer();
    this.#timer = this.#host.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#register();
    }, seconds * 1000);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * §10.2.4: the expiry of our binding is the Contact's expires parameter, else the Expires header.
 * Our Contact is found by §19.1.4's URI comparison: a registrar may write it back with parameters
 * of its own (`;ob`, say), and one that did had its grant (expires=2) taken for ours (600 s).
 */
function grantedExpiry(response: SipResponse, ourContact: string): number | undefined {
  let ours: SipUri | AbsoluteUri;
  let bindings: NameAddr[];
  try {
    ours = parseNameAddr(ourContact).parsedUri;
    bindings = parseNameAddrList(response.getList('Contact').filter((contact) => contact !== '*'));
  } catch {
    bindings = []; // the parser has checked a response's Contacts: not reached
    ours = { scheme: '', opaque: '' };
  }
  for (const binding of bindings) {
    if (!isSipUri(ours) || !isSipUri(binding.parsedUri) || !sameSipUri(binding.parsedUri, ours)) continue;
    const expires = binding.params.get('expires');
    if (expires != null && /^\d{1,10}$/.test(expires)) return Number(expires);
  }
  const header = response.get('Expires');
  return header !== undefined && /^\d{1,10}$/.test(header.trim()) ? Number(header.trim()) : undefined;
}

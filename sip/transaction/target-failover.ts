/**
 * RFC 3263 §4.3: a request whose target failed is sent again, as a new transaction (a new Via
 * branch, everything else the same), to the next target its name resolves to. A failure is no
 * answer at all (timer B or F), a transport error (a refused connection), or a 503 before any
 * provisional response past 100 Trying. The user sees one transaction: the responses of the
 * attempt that got through, or the last attempt's failure once no target is left.
 *
 * The user agent applies it to requests outside any dialog whose target is a host name it looked
 * up (dns-targets.ts): a call or registration to a provider with its first edge down reaches the
 * second, where before it failed and only the next request went on.
 */
import type { InviteClientUser } from './invite-client.js';
import type { Destination } from '../transport/routing.js';
import type { TransportAddress } from '../transport/transport.js';

/**
 * A client transaction's user (any method: the INVITE one's calls are a superset of the
 * others'), which may also say whether a failed attempt is to go on.
 */
export interface ClientUser extends InviteClientUser {
  /** Whether a failed attempt may go on to the next target: false once the user gave up (CANCEL). */
  mayRetry?(): boolean;
}

/** A client transaction as its user holds it: to end it early. */
export interface ClientAttempt {
  readonly terminated: boolean;
  terminate(): void;
  /** An INVITE's: ends it `ms` from now unless its final response has come (InviteClientTransaction). */
  giveUpAfter?(ms: number): void;
}

export interface FailoverAttempts {
  /** Starts a client transaction for the request to `destination`; `again` for every attempt after the first (a new branch). */
  start(destination: Destination, user: ClientUser, again: boolean): ClientAttempt;
  /** Where to go after `failed`, none of `tried` (failed's target is added to it); undefined when nothing is left. */
  next(failed: Destination, tried: TransportAddress[]): Promise<Destination | undefined>;
}

export class TargetFailover implements ClientAttempt {
  #current: ClientAttempt | undefined;
  #stopped = false;
  /** A failed attempt whose next target is being looked up. */
  #pending = false;
  /** A provisional response past 100 reached the user: the request has been taken, no failover. */
  #progressed = false;
  readonly #tried: TransportAddress[] = [];

  constructor(
    private readonly attempts: FailoverAttempts,
    private readonly user: ClientUser,
    first: Destination
  ) {
    this.#attempt(first, false);
  }

  get terminated(): boolean {
    return this.#stopped || (!this.#pending && this.#current?.terminated === true);
  }

  /** The user ends it: the current attempt ends, and no other starts or reports. */
  terminate(): void {
    this.#stopped = true;
    this.#current?.terminate();
  }

  giveUpAfter(ms: number): void {
    this.#current?.giveUpAfter?.(ms);
  }

  #attempt(destination: Destination, again: boolean): void {
    const failed = (report: () => void): void => this.#failed(destination, report);
    this.#current = this.attempts.start(
      destination,
      {
        response: (response) => {
          if (response.status === 503 && !this.#progressed) {
            failed(() => this.user.response(response));
            return;
          }
          if (response.status > 100) this.#progressed = true;
          this.user.response(response);
        },
        timeout: () => failed(() => this.user.timeout()),
        transportError: (error) =>
          failed(() => (this.user.transportError ? this.user.transportError(error) : this.user.timeout()))
      },
      again
    );
  }

  #mayRetry(): boolean {
    return !this.#stopped && this.user.mayRetry?.() !== false;
  }

  /** The attempt to `destination` failed: on to the next target, else `report` the failure. */
  #failed(destination: Destination, report: () => void): void {
    if (!this.#mayRetry()) {
      if (!this.#stopped) report();
      return;
    }
    this.#pending = true;
    const settle = (next: Destination | undefined): void => {
      this.#pending = false;
      if (this.#stopped) return;
      if (next !== undefined && this.#mayRetry()) this.#attempt(next, true);
      else report();
    };
    this.attempts.next(destination, this.#tried).then(settle, () => settle(undefined));
  }
}

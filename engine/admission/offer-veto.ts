/**
 * The engine's veto of a new INVITE whose offer it cannot answer (media/offer-check.ts), asked
 * beside the application's INVITE filter so that the refusal (488, 415, 400) goes statelessly, as
 * the door's do. Answered from its transaction, the 488 went out 11 times over 32 s to whatever
 * address the INVITE named, forged or not, until an ACK that a forger never sends. Each refusal is
 * counted and logged at debug; a warning, at most once a minute, says how many.
 */
import type { Logger } from 'pino';
import {
  sessionDescriptionOf,
  warningHeaders,
  type SipRequest,
  type TransportProtocol
} from '../../sip/index.js';
import type { ChannelContext } from '../channel/channel-context.js';
import { offerRefusal } from '../media/offer-check.js';
import type { CounterCell } from '../observability/metric-cells.js';
import { ThrottledWarning } from '../observability/throttled-warning.js';

export class OfferVeto {
  readonly #warning: ThrottledWarning;

  constructor(
    private readonly logger: Logger,
    private readonly refused: CounterCell,
    /** The context calls are made in: none before start(), and then nothing is refused here. */
    private readonly context: () => ChannelContext | undefined
  ) {
    this.#warning = new ThrottledWarning(logger, 'refused offers it cannot answer');
  }

  /** The refusal of `request`'s offer, come over `protocol`; undefined when it can be answered. */
  check(
    request: SipRequest,
    protocol: TransportProtocol
  ): { status: number; headers: Record<string, string> } | undefined {
    const offer = sessionDescriptionOf(request);
    const context = this.context();
    if (offer === undefined || context === undefined) return undefined;
    const refusal = offerRefusal(offer, protocol, context);
    if (refusal === undefined) return undefined;
    this.refused.inc();
    const details = { callId: request.callId, err: refusal.message };
    this.logger.debug(details, 'refused an offer it cannot answer');
    this.#warning.note(details);
    return { status: refusal.status, headers: warningHeaders(refusal) };
  }
}

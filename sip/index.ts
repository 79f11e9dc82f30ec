/**
 * The SIP stack's entry: the user agent, its session types and errors. Everything else in
 * `sip/` is internal to the stack (SDP and digest auth have their own entries in `sdp/`, `auth/`).
 */
export * from './user-agent.js';
export { SipParseError, SipInvalidStateError, type SipErrorCode } from './errors.js';
export type { DtmfInfo } from './session/dtmf-info.js';
export type { TransportSpec } from './transport/transport-set.js';
export type { WsTransportOptions } from './transport/ws.js';

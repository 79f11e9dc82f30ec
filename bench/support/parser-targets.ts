/**
 * Every parser that reads bytes from the network, called directly, with the typed errors it
 * is allowed to throw: the parser benchmark (bench/suites/parsers.ts) and the fuzzer
 * (bench/fuzz/) both drive these. A SIP message is parsed the way the user agent reads it
 * (parse, then the accessors that re-parse From, To, Via and CSeq), and a stream is framed the
 * way TCP delivers it.
 */
import {
  DigestParseError,
  DigestUnsupportedError,
  parseAuthorization,
  parseChallenge
} from '../../sip/auth/digest.js';
import { SipParseError } from '../../sip/errors.js';
import { resolveMessageLimits, type SipMessageLimits } from '../../sip/message/limits.js';
import { parseNameAddrList } from '../../sip/message/name-addr.js';
import { parseMessage } from '../../sip/message/parser.js';
import { readSessionBody } from '../../sip/message/session-body.js';
import { parseUri } from '../../sip/message/uri.js';
import { parseViaList } from '../../sip/message/via.js';
import { SdpParseError } from '../../sip/sdp/errors.js';
import { parseSdp } from '../../sip/sdp/parse.js';
import { StreamFramer, StreamFramingError } from '../../sip/transport/stream-framer.js';
import { parseRtcpCompound } from '../../engine/rtp/rtcp-packet.js';
import { RtpHeaderView } from '../../engine/rtp/rtp-packet.js';
import { TelephoneEventReceiver, parseTelephoneEvent } from '../../engine/rtp/telephone-event.js';

export interface ParserTarget {
  name: string;
  /** Parses one input; returns normally or throws. */
  parse(input: Buffer): void;
  /** Error classes a malformed input may legitimately raise. */
  typedErrors: ReadonlyArray<abstract new (...args: never[]) => Error>;
}

/** Limits far above the defaults, so growth is measured in the parsing code, not in an early refusal. */
export const WIDE_LIMITS: SipMessageLimits = resolveMessageLimits({
  maxMessageBytes: 1 << 24,
  maxHeaderBytes: 1 << 24,
  maxLineBytes: 1 << 24,
  maxHeaderCount: 1 << 24,
  maxBodyBytes: 1 << 24
});

function readSipMessage(input: Buffer, datagram: boolean, limits?: SipMessageLimits): void {
  const parsed = parseMessage(input, { datagram, limits });
  if (parsed.kind === 'invalid' || parsed.error) return;
  const message = parsed.message;
  void message.from;
  void message.to;
  void message.vias;
  void message.cseq;
  void message.contentType;
}

/** A message body as the user agent reads its SDP: the input's first line is the Content-Type, the rest the body. */
function readBody(input: Buffer): void {
  const lf = input.indexOf(0x0a);
  const contentType = input.toString('latin1', 0, lf < 0 ? input.length : lf);
  const body = lf < 0 ? Buffer.alloc(0) : input.subarray(lf + 1);
  void readSessionBody({ get: (name) => (name === 'Content-Type' ? contentType : undefined), body });
}

const rtpView = new RtpHeaderView();

export function parserTargets(limits?: SipMessageLimits): ParserTarget[] {
  return [
    {
      name: 'sip message (datagram)',
      parse: (b) => readSipMessage(b, true, limits),
      typedErrors: [SipParseError]
    },
    {
      name: 'sip stream framer',
      parse: (b) => {
        // Three uneven chunks, as TCP may deliver them; frames then go through the parser.
        const framer = new StreamFramer(limits);
        const cuts = [0, Math.floor(b.length / 3), Math.floor((b.length * 5) / 7), b.length];
        for (let i = 0; i < 3; i++)
          for (const frame of framer.push(b.subarray(cuts[i], cuts[i + 1])))
            readSipMessage(frame, false, limits);
      },
      typedErrors: [StreamFramingError, SipParseError]
    },
    { name: 'sip uri', parse: (b) => void parseUri(b.toString('utf8')), typedErrors: [SipParseError] },
    {
      name: 'name-addr',
      parse: (b) => void parseNameAddrList([b.toString('utf8')]),
      typedErrors: [SipParseError]
    },
    { name: 'via', parse: (b) => void parseViaList([b.toString('utf8')]), typedErrors: [SipParseError] },
    {
      name: 'auth params',
      parse: (b) => {
        // Both readers of the grammar; a typed refusal by one still lets the other run.
        const text = b.toString('utf8');
        for (const read of [parseChallenge, parseAuthorization]) {
          try {
            read(text);
          } catch (error) {
            if (!(error instanceof DigestParseError || error instanceof DigestUnsupportedError)) throw error;
          }
        }
      },
      typedErrors: [DigestParseError, DigestUnsupportedError]
    },
    { name: 'sdp', parse: (b) => void parseSdp(b.toString('utf8')), typedErrors: [SdpParseError] },
    // Refusals are results (400, 415), not errors: anything thrown is a fault.
    { name: 'message body', parse: readBody, typedErrors: [] },
    { name: 'rtp', parse: (b) => void rtpView.parse(b), typedErrors: [] },
    { name: 'rtcp', parse: (b) => void parseRtcpCompound(b), typedErrors: [] },
    {
      name: 'rfc4733',
      parse: (b) => {
        // An RTP packet carrying telephone-events, as the session hands it to the receiver.
        if (rtpView.parse(b) !== null) return;
        void parseTelephoneEvent(b, rtpView.payloadOffset, rtpView.payloadLength);
        const receiver = new TelephoneEventReceiver({ clockRateHz: 8000, onDigit: () => {} });
        receiver.receive(b, rtpView.payloadOffset, rtpView.payloadLength, rtpView.timestamp, 0);
      },
      typedErrors: []
    }
  ];
}

export function isTypedError(target: ParserTarget, error: unknown): boolean {
  return target.typedErrors.some((cls) => error instanceof cls);
}

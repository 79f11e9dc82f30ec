/**
 * The keys of the options objects `UASCallChannel`'s methods take, for `checkOptionKeys`: a
 * misspelled option (`getDigits({ maxDigits })`, `record(path, { maxSecond })`) fails the call
 * instead of being ignored. Each table `satisfies` its type's keys, so the two cannot drift.
 */
import type { GetDigitsOptions } from '../dtmf/digit-collector.js';
import { SPEECH_OPTION_KEYS, type TextToSayOptions } from '../settings/media.js';
import { ABORT_SIGNAL, ANY, type OptionKeys } from '../util/option-keys.js';
import type { TransferOptions } from './conference-transfer.js';
import type { CallOptions, RetrievalWaitOptions, SendDtmfOptions } from './uas-call-channel.js';

type Signal = { signal?: AbortSignal };

export const PLAY_TEXT_OPTION_KEYS = { ...SPEECH_OPTION_KEYS, signal: ABORT_SIGNAL } satisfies OptionKeys<
  TextToSayOptions & Signal
>;
export const PLAY_FILE_OPTION_KEYS = { signal: ABORT_SIGNAL } satisfies OptionKeys<Signal>;

export const GET_DIGITS_OPTION_KEYS = {
  clear: ANY,
  count: ANY,
  secondsPredigitsTimeout: ANY,
  secondsInterdigitTimeout: ANY,
  end: ANY,
  secondsTimeout: ANY,
  signal: ABORT_SIGNAL
} satisfies OptionKeys<GetDigitsOptions>;

export const SEND_DTMF_OPTION_KEYS = { durationMs: ANY, gapMs: ANY } satisfies OptionKeys<SendDtmfOptions>;

export const CALL_OPTION_KEYS = {
  from: ANY,
  displayName: ANY,
  // SIP header names are the application's to choose.
  headers: ANY,
  auth: { username: ANY, password: ANY, realm: ANY } satisfies OptionKeys<CallOptions['auth']>,
  transport: ANY,
  secondsTimeout: ANY,
  signal: ABORT_SIGNAL
} satisfies OptionKeys<CallOptions>;

export const TRANSFER_OPTION_KEYS = {
  talkerAndListener: ANY,
  conferenceLifetimeControl: ANY,
  conferencePartyMediaSettings: ANY,
  secondsTimeout: ANY,
  signal: ABORT_SIGNAL
} satisfies OptionKeys<TransferOptions>;

export const WAIT_FOR_RETRIEVAL_OPTION_KEYS = {
  secondsTimeout: ANY,
  signal: ABORT_SIGNAL
} satisfies OptionKeys<RetrievalWaitOptions>;

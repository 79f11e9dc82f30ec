/**
 * What the load's callers send, by codec: one second (50 frames of 160 bytes) of a 440 Hz tone at
 * about −15 dBFS. PCMU, or G.722 (RTP clock 8000, 160 bytes a 20 ms frame as PCMU's, 16 kHz audio)
 * for a run of wideband phones in 16 kHz rooms. A listener's frame is 0xff bytes, silence in both.
 */
import { ulawTone } from '../support/ulaw-tone.js';
import { sine } from '../../test/support/dsp-prng.js';
import { G722_STATE, g722Encode, g722InitState } from '../../engine/dsp/reference/g722.js';

export type LoadCodec = 'PCMU' | 'G722';
export const LOAD_CODECS: readonly LoadCodec[] = ['PCMU', 'G722'];

/** The run's codec, as the orchestrator passes it to its children (LOAD_CODEC; PCMU if unset). */
export function loadCodecFromEnv(): LoadCodec {
  return process.env.LOAD_CODEC === 'G722' ? 'G722' : 'PCMU';
}

export interface CallerAudio {
  /** The m= line's formats and their rtpmaps, telephone-event included. */
  sdpMedia(port: number): string;
  tone: Buffer;
  payloadType: number;
}

export function callerAudio(codec: LoadCodec): CallerAudio {
  if (codec === 'PCMU') {
    return {
      sdpMedia: (port) =>
        `m=audio ${port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n`,
      tone: Buffer.from(ulawTone(440, 6000, 8000)),
      payloadType: 0
    };
  }
  const pcm = sine(16000, 440, 16000, 6000);
  const state = new Int32Array(G722_STATE.words);
  g722InitState(state);
  const tone = Buffer.alloc(8000);
  g722Encode(state, pcm, tone, pcm.length);
  return {
    sdpMedia: (port) =>
      `m=audio ${port} RTP/AVP 9 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n`,
    tone,
    payloadType: 9
  };
}

/**
 * A media leg as the media tests and the media-path bench build one outside an engine: an 8 kHz
 * room, a loopback address, PCMU, and no-op events except those given. Options past these
 * (metrics, a virtual clock, codecs, in-band DTMF) are passed through.
 */
import { MediaLeg, type MediaLegEvents, type MediaLegOptions } from '../../engine/media/media-leg.js';

export type PcmuLegOptions = Pick<MediaLegOptions, 'kernels' | 'loop' | 'ports' | 'metrics'> &
  Partial<Pick<MediaLegOptions, 'now' | 'codecs' | 'inbandDtmf'>>;

export function pcmuLeg(options: PcmuLegOptions, events: Partial<MediaLegEvents> = {}): MediaLeg {
  return new MediaLeg(
    { address: '127.0.0.1', roomSampleRateHz: 8000, codecs: ['PCMU'], ...options },
    {
      onDigit: () => undefined,
      onTalking: () => undefined,
      onRecordingFull: () => undefined,
      onMediaTimeout: () => undefined,
      onStrangerMedia: () => undefined,
      ...events
    }
  );
}

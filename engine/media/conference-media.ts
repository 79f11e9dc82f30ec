/**
 * The media side of one conference room: its mix room in the DSP core, driven by the frame loop,
 * and its announcements. Announcements are synthesised ahead of time, off the frame clock, and
 * queued in the order the room announced them, so two parties entering at once are announced
 * one after the other and never over each other.
 */
import type { ConferenceRoom } from '../conference/room.js';
import type { Party } from '../conference/party.js';
import { SafeEmitter } from '../../sip/index.js';
import type { DspKernels } from '../dsp/kernels.js';
import { MixRoom } from './mix-room.js';
import type { MixLoop } from './mix-loop.js';
import type { MediaResolver } from './media-resolver.js';
import { AnnouncementError } from '../errors.js';

/** A talker on another node of a cluster: `party` is its label there (the channel id). */
export interface RemoteTalkerEvent {
  nodeId: string;
  party: string;
  levelDbfs: number;
}

export type ConferenceMediaEvents = {
  talking: [{ party: Party; levelDbfs: number }];
  stoppedTalking: [{ party: Party; levelDbfs: number }];
  /** In a cluster: a party of this room on another node started talking. */
  remoteTalking: [RemoteTalkerEvent];
  remoteStoppedTalking: [RemoteTalkerEvent];
};

export class ConferenceMedia extends SafeEmitter<ConferenceMediaEvents> {
  readonly mix: MixRoom;
  /** Resolves announcement parts in announce order; enqueueing follows the same chain. */
  private chain: Promise<void> = Promise.resolve();
  /** The playing out of the last announcement queued (settles however it ends). */
  private lastPlayed: Promise<void> = Promise.resolve();
  private closed = false;
  /** Parties whose talker events are not reported: cluster trunk legs, whose talkers their own node reports. */
  private readonly hiddenTalkers = new WeakSet<Party>();

  constructor(
    readonly room: ConferenceRoom,
    kernels: DspKernels,
    private readonly loop: MixLoop,
    private readonly resolver: MediaResolver,
    private readonly onError: (error: unknown) => void,
    sampleRateHz: 8000 | 16000
  ) {
    super();
    this.mix = new MixRoom(kernels, sampleRateHz);
    loop.add(this.mix);
    room.on('announce', ({ party, kind, parts }) => {
      // Made ahead of the chain (an earlier announcement may still be synthesising), each part on
      // its own: a part that fails (a file refused or missing) is reported, the others play.
      const pcm = this.resolver.each(parts, this.mix.sampleRateHz);
      this.chain = this.chain
        .then(() => pcm)
        .then((results) => {
          // A room closed meanwhile (the engine stopping closes the prompt service under its
          // last exit announcements) has nobody to play to, nor anything to report.
          if (this.closed) return;
          const frames: Int16Array[] = [];
          for (const result of results) {
            if (result.status === 'fulfilled') frames.push(result.value);
            else
              this.onError(
                new AnnouncementError(
                  { roomName: room.name, channelId: party.channelId, kind },
                  result.reason
                )
              );
          }
          if (frames.length === 0) return;
          // Not awaited: the queue plays it after any announcement already queued.
          this.lastPlayed = this.mix.announcements.enqueue(frames).catch(() => {
            /* cleared because the room closed */
          });
        })
        .catch((error: unknown) => this.onError(error));
    });
    room.on('destroyed', () => this.close());
  }

  /** Settles once every announcement made so far has been played out (or dropped). */
  announcementsPlayed(): Promise<void> {
    return this.chain.then(() => this.lastPlayed);
  }

  /** Who is talking in the room: the parties' talker detectors report here as well as on their channels. */
  reportTalking(party: Party, talking: boolean, levelDbfs: number): void {
    if (this.hiddenTalkers.has(party)) return;
    this.safeEmit(talking ? 'talking' : 'stoppedTalking', { party, levelDbfs });
  }

  /** Stops reporting `party`'s talker events (a cluster trunk leg). */
  hideTalker(party: Party): void {
    this.hiddenTalkers.add(party);
  }

  /** A talker event of a party on another node of the cluster. */
  reportRemoteTalking(event: RemoteTalkerEvent, talking: boolean): void {
    this.safeEmit(talking ? 'remoteTalking' : 'remoteStoppedTalking', event);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.loop.remove(this.mix);
    this.mix.close();
  }
}

/**
 * The moderator's side of one room: which of its parties are this engine's callers (a cluster's
 * trunk legs are not), the roster, and the application's mute, unmute, hold, unhold, talk volume
 * and remove of one of them, named by its `Party`, its channel id, or in a cluster by
 * `{ nodeId, party }`, which the room's section passes to that node; and who coaches whom, among
 * this engine's callers.
 */
import type { Logger } from 'pino';
import type { ConferenceRoom } from './room.js';
import { Party } from './party.js';
import { EngineError, InvalidArgumentError, InvalidStateError } from '../errors.js';
import { describe } from '../dtmf/dtmf-digit.js';

/** What a moderator may do to one party. */
export type ModerationAction =
  'mute' | 'unmute' | 'hold' | 'unhold' | 'talkVolume' | 'listenVolume' | 'remove';
export const MODERATION_ACTIONS: readonly ModerationAction[] = [
  'mute',
  'unmute',
  'hold',
  'unhold',
  'talkVolume',
  'listenVolume',
  'remove'
];

/**
 * An action; for 'hold' the file (in the play folders) the held party hears, looped (silence
 * without); for 'talkVolume' the gain in dB on what the party says, for 'listenVolume' on what
 * it hears.
 */
export interface Moderation {
  action: ModerationAction;
  fileToPlay?: string;
  talkVolumeDb?: number;
  listenVolumeDb?: number;
}

/**
 * A party of this room whose call is on another node of the cluster: the node's id and the
 * party's label there (its channel id), as the `remoteTalking` events name it. The node's id says
 * where to send an action for it.
 */
export interface RemoteParty {
  /** Absent, or this engine's own node id: a party of this engine. */
  nodeId?: string;
  party: string;
}

/** One caller of the room, on whichever node of a cluster: a `ModerationTarget` as it is. */
export interface RosterEntry extends RemoteParty {
  muted: boolean;
  held: boolean;
  /** How loud the room hears it and it hears the room (`setTalkVolume`, `setListenVolume`), in dB. */
  talkVolumeDb: number;
  listenVolumeDb: number;
  /** The party it coaches (a caller of the same node, named as `party` names it), if it coaches. */
  coaching?: string;
}

/** Whom a moderator's action is for: a `Party` of this room, the id of a channel of this engine in it, or a party elsewhere in the cluster. */
export type ModerationTarget = Party | string | RemoteParty;

/** What a room's section of a cluster lends the room: this node's id, which parties are trunk legs, and the other nodes' ear. */
export interface ClusterRoomHooks {
  readonly nodeId: string;
  isTrunkLeg(party: Party): boolean;
  /**
   * Asks node `target.nodeId` to apply `action` to its party `target.party` in this room; settles
   * on its answer (rejects with what refused it there, or ERR_CLUSTER_UNAVAILABLE).
   */
  moderateElsewhere(moderation: Moderation, target: { nodeId: string; party: string }): Promise<void>;
  /** Every node's callers in the room, as the directory holds them. */
  roster(): Promise<RosterEntry[]>;
}

export class RoomModerator {
  private cluster: ClusterRoomHooks | undefined;

  /** `holdAudio`: a hold file's PCM at the room's rate (FileAccessError, TtsError). */
  constructor(
    private readonly room: ConferenceRoom,
    private readonly holdAudio: (fileToPlay: string) => Promise<Int16Array>,
    private readonly log: Logger
  ) {}

  joinCluster(hooks: ClusterRoomHooks): void {
    this.cluster = hooks;
  }

  /** This engine's callers in the room, in entry order. */
  get parties(): readonly Party[] {
    return this.room.parties.filter((party) => !this.isTrunkLeg(party));
  }

  /** The room's callers on every node of a cluster (this engine's alone, with no node id, outside one). */
  async roster(): Promise<RosterEntry[]> {
    const cluster = this.cluster;
    if (cluster === undefined)
      return this.parties.map((party) => ({
        nodeId: undefined,
        party: rosterName(party),
        muted: party.muted,
        held: party.held,
        talkVolumeDb: party.talkVolumeDb,
        listenVolumeDb: party.listenVolumeDb,
        coaching: party.coaching && rosterName(party.coaching)
      }));
    return cluster.roster().catch((error: unknown) => {
      throw new EngineError(
        'ERR_CLUSTER_UNAVAILABLE',
        `roster of room '${this.room.name}': the cluster could not be asked`,
        { cause: error }
      );
    });
  }

  isTrunkLeg(party: Party): boolean {
    return this.cluster?.isTrunkLeg(party) ?? false;
  }

  /** Another node asked: applies `moderation` to the caller of channel `channelId`, if it is here. */
  async moderateHere(moderation: Moderation, channelId: string): Promise<boolean> {
    const party = this.callerByChannel(channelId);
    if (party === undefined) return false;
    await this.apply(moderation, party);
    return true;
  }

  /** The application asked (`closed`: the room's media is closed, so the room has ended). */
  async moderate(moderation: Moderation, who: ModerationTarget, closed: boolean): Promise<void> {
    const { action } = moderation;
    const remote = remoteTarget(action, who);
    if (closed || this.room.destroyed) throw this.room.destroyedError(action);
    if (!this.isElsewhere(remote)) return this.apply(moderation, this.localParty(action, who, remote));
    const cluster = this.cluster;
    if (cluster === undefined)
      throw new InvalidArgumentError(
        'party',
        `${action}: party '${remote.party}' of node '${remote.nodeId}': this engine is in no cluster`
      );
    // Settles on that node's answer (moderation-asks.ts): done, refused there, or no answer.
    await cluster.moderateElsewhere(moderation, { nodeId: remote.nodeId, party: remote.party });
  }

  /**
   * The application asked that `who` coach `agent` (undefined: stop coaching). Both are parties
   * of this engine: a whisper is mixed where both calls are.
   */
  async coach(who: ModerationTarget, agent: ModerationTarget | undefined, closed: boolean): Promise<void> {
    const action = agent === undefined ? 'stopCoaching' : 'coach';
    if (closed || this.room.destroyed) throw this.room.destroyedError(action);
    const party = this.callerHere(action, who);
    const coached = agent === undefined ? undefined : this.callerHere(action, agent);
    this.room.setCoaching(party, coached);
    this.log.info({ action, channelId: party.channelId, agentChannelId: coached?.channelId }, 'moderated');
  }

  /** `who` as a caller of this engine; InvalidArgumentError for a party on another node. */
  private callerHere(action: string, who: ModerationTarget): Party {
    const remote = remoteTarget(action, who);
    if (this.isElsewhere(remote))
      throw new InvalidArgumentError(
        'party',
        `${action}: party '${remote.party}' is on node '${remote.nodeId}': a coach and its agent must be callers of this node`
      );
    return this.localParty(action, who, remote);
  }

  /** A target named on another node than this one. */
  private isElsewhere(remote: RemoteParty | undefined): remote is { nodeId: string; party: string } {
    return remote?.nodeId !== undefined && remote.nodeId !== this.cluster?.nodeId;
  }

  /** `who` (`remote` as remoteTarget read it) as this engine's caller in the room; InvalidStateError or InvalidArgumentError when it is not one. */
  private localParty(action: string, who: ModerationTarget, remote: RemoteParty | undefined): Party {
    if (who instanceof Party) {
      if (!this.room.has(who) || this.isTrunkLeg(who)) throw notInRoom(action, who);
      return who;
    }
    const channelId = remote?.party ?? (who as string);
    const party = this.callerByChannel(channelId);
    if (party === undefined)
      throw new InvalidArgumentError(
        'party',
        `${action}: room '${this.room.name}' has no party of channel '${channelId}' here`
      );
    return party;
  }

  /** An operator reads who muted, held or removed whom: every action applied here is logged. */
  private async apply(moderation: Moderation, party: Party): Promise<void> {
    await this.change(moderation, party);
    this.log.info({ ...moderation, channelId: party.channelId }, 'moderated');
  }

  private async change(
    { action, fileToPlay, talkVolumeDb, listenVolumeDb }: Moderation,
    party: Party
  ): Promise<void> {
    if (action === 'remove') this.room.leave(party, 'removed');
    else if (action === 'mute' || action === 'unmute') this.room.setMuted(party, action === 'mute');
    else if (action === 'unhold') this.room.setHeld(party, false);
    else if (action === 'talkVolume') this.room.setTalkVolume(party, talkVolumeDb ?? 0);
    else if (action === 'listenVolume') this.room.setListenVolume(party, listenVolumeDb ?? 0);
    else {
      const audio = fileToPlay === undefined ? undefined : await this.holdAudio(fileToPlay);
      // Reading the file took turns: the party may have gone.
      if (!this.room.has(party)) throw notInRoom(action, party);
      this.room.setHeld(party, true, audio);
    }
  }

  private callerByChannel(channelId: string): Party | undefined {
    for (const party of this.room.parties)
      if (party.channelId === channelId && !this.isTrunkLeg(party)) return party;
    return undefined;
  }
}

/** A caller as a roster names it outside a cluster: its channel id. */
function rosterName(party: Party): string {
  return party.channelId ?? party.label ?? '';
}

function notInRoom(action: string, party: Party): InvalidStateError {
  return new InvalidStateError(`cannot ${action}: ${party.toString()} is not in the room`, { state: 'left' });
}

/** `who` as a party on a node named by id, undefined for a `Party` or a channel id; TypeError for anything else. */
function remoteTarget(action: string, who: unknown): RemoteParty | undefined {
  if (who instanceof Party || typeof who === 'string') return undefined;
  const ref = who as Partial<RemoteParty> | null;
  if (
    typeof ref === 'object' &&
    ref !== null &&
    (ref.nodeId === undefined || typeof ref.nodeId === 'string') &&
    typeof ref.party === 'string'
  )
    return { nodeId: ref.nodeId, party: ref.party };
  throw new TypeError(
    `${action}: party must be a Party, a channel id or { nodeId, party }, got ${describe(who)}`
  );
}

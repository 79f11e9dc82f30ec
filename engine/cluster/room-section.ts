/**
 * One room as one node of the cluster holds it: the local `ConferenceRoom` (its parties stay on
 * this node) and its place in the room across the cluster. The section is either the owner
 * (it holds the lease in the directory and admits the other sections' trunk legs as parties of
 * its room) or a member (it joins the owner's room over one trunk leg, a SIP call from this
 * engine's UAC to the owner's UAS, which is a party of both rooms). So the trunk carries this
 * section's mix up and brings the owner's mix-minus-this-section down: every party hears every
 * other once and never itself, and announcements made anywhere reach everyone.
 *
 * Every third of a lease the section renews its lease (owner) or asks the directory who owns
 * the room, claiming it when nobody does (member): that is how a survivor takes over from a dead
 * owner, with a higher epoch, and how the members re-join the new owner. When the directory does
 * not answer, the room goes on as it is; a room that never reached it is served locally and
 * marked degraded until it does. The owner also ends the trunk legs of members whose heartbeat
 * has lapsed (they died without a BYE). A room destroyed by a destroyOnExit party is marked so
 * in the directory (by the member, `DestroyNotice`), and a section that claims a destroyed
 * instance of its room closes it instead of making it again.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConferenceRoom, DestroyReason } from '../conference/room.js';
import type { LeaveReason, Party } from '../conference/party.js';
import type { ConferenceMedia } from '../media/conference-media.js';
import type { Moderation } from '../conference/room-moderator.js';
import type { UASCallChannel } from '../channel/uas-call-channel.js';
import { ConferenceLifetimeControl } from '../settings/conference-lifetime-control.js';
import { ConferencePartyMediaSettings } from '../settings/conference-party-media-settings.js';
import { State } from '../state.js';
import type { RoomDirectory, RoomOwner } from './room-directory.js';
import { TRUNK_HEADER, type TrunkTag } from './trunk-header.js';
import { answerOf, ModerationAsks, type ModerationAnswer } from './moderation-asks.js';
import { PerNodeNames } from './per-node-names.js';
import { RoomFloor } from './room-floor.js';

export type SectionRole = 'joining' | 'owner' | 'member' | 'degraded';

/** What a section needs from its node. */
export interface SectionHost {
  readonly directory: RoomDirectory;
  /** Whether node `nodeId` has died: its heartbeat lapsed while the directory held ours steadily. */
  nodeGone(nodeId: string): Promise<boolean>;
  readonly nodeId: string;
  readonly leaseMs: number;
  readonly logger: Logger;
  createChannel(): UASCallChannel;
  /** A channel for our trunk leg to the owner (Engine's, pinned to the owner's answer). */
  createTrunkChannel(): UASCallChannel;
  /** The signed trunk header for `tag`; undefined while the cluster's secret is not known yet. */
  signTrunkTag(tag: TrunkTag): string | undefined;
  /** The live room of that name in this engine, if any. */
  liveRoom(name: string): ConferenceRoom | undefined;
  /** The media (and talker events) of a live room. */
  conference(name: string): ConferenceMedia | undefined;
  roleChanged(section: RoomSection, previous: SectionRole): void;
  trunkCountChanged(delta: number): void;
  /** A destroyOnExit party ended instance `instance` of the room: every node must retrieve its parties. */
  destroyedByParty(name: string, instance: string): void;
  closed(section: RoomSection): void;
}

/** How the other nodes name a party of this node: its label (the channel id), in talker events and the roster. */
function clusterName(party: Party): string {
  return party.label ?? `party${party.id}`;
}

/** A trunk leg is a plain party: it does not start or end the room, and it is never announced. */
function trunkPartyOptions() {
  return {
    talkerAndListener: true,
    conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false, destroyOnExit: false }),
    conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false }),
    secondsTimeout: null
  };
}

/** After a trunk leg ends or is refused, the next look at the directory comes this soon (ms), doubling while it keeps failing, up to a lease. */
const RETRY_AFTER_TRUNK_LOSS_MS = 250;

/** How long a dead node's announcement floor keeps the others waiting, at most (ms; a lease when shorter). */
const FLOOR_TTL_MS = 2000;
/** How often a node waiting for the announcement floor asks again (ms). */
const FLOOR_POLL_MS = 100;

/** How long a trunk stays up after the last announcement it carries has been played: its way across. */
const TRUNK_DRAIN_MS = 300;

export class RoomSection {
  readonly name: string;
  private roleValue: SectionRole = 'joining';
  private ownedEpoch: number | undefined;
  private lastRenewedAtMs = -Infinity;
  /** Our trunk leg to the owner, while we are a member. */
  private trunk: { channel: UASCallChannel; owner: RoomOwner } | undefined;
  /** Every trunk channel of this section, by id: ours to the owner, and the members' legs we admitted. */
  private readonly trunkChannels = new Map<string, UASCallChannel>();
  /**
   * The party labels (channel ids) that are trunk legs, not local callers: every live trunk
   * channel's, and an ended one's until its party has left the room too. A room lives as long as
   * its callers do, while trunk legs come and go with the other nodes' callers.
   */
  private readonly trunkIds = new Set<string>();
  /** The node each admitted trunk leg comes from (owner only). */
  private readonly legNodes = new Map<UASCallChannel, string>();
  /** Parties of this room on other nodes that are talking now, by node. */
  private readonly remoteTalkers = new PerNodeNames();
  /** The other nodes' callers this node was told of, by node: so each comes and goes once here. */
  private readonly remoteParties = new PerNodeNames();
  /** Parties of this room on this node that are talking now, with their level when they began. */
  private readonly localTalkers = new Map<Party, number>();
  /**
   * The life of the room this section belongs to: the directory's, once a claim has answered;
   * until then a fresh one, which the room takes if it has none.
   */
  private instanceValue = randomBytes(12).toString('base64url');
  private readonly timer: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Trunk legs lost or refused in a row (reset when one is in the room). */
  private trunkFailures = 0;
  private ticking: Promise<void> | undefined;
  private startedByCluster = false;
  private startPublished = false;
  private closedValue = false;
  private readonly log: Logger;
  private readonly media: ConferenceMedia | undefined;
  /** This node's moderators' asks to other nodes, waiting for their answers. */
  private readonly asks: ModerationAsks;
  /** The room's announcements take turns with the other nodes' (room-floor.ts). */
  private readonly floor: RoomFloor;

  constructor(
    readonly room: ConferenceRoom,
    private readonly host: SectionHost
  ) {
    this.name = room.name;
    this.log = host.logger.child({ roomName: room.name, nodeId: host.nodeId });
    room.on('started', this.onStarted);
    room.on('partyLeft', this.onPartyLeft);
    room.on('destroyed', this.onDestroyed);
    this.media = host.conference(room.name);
    this.asks = new ModerationAsks(room.name, host.nodeId, (event) => host.directory.publish(event));
    this.media?.joinCluster({
      nodeId: host.nodeId,
      isTrunkLeg: (party) => this.isTrunkLeg(party),
      moderateElsewhere: (moderation, target) => this.asks.ask(moderation, target),
      roster: () => host.directory.roster(this.name)
    });
    this.floor = new RoomFloor({
      directory: host.directory,
      room: room.name,
      ttlMs: Math.min(FLOOR_TTL_MS, host.leaseMs),
      pollMs: FLOOR_POLL_MS,
      logger: this.log
    });
    this.media?.shareFloor(this.floor);
    room.on('partyJoined', this.onCallersChanged);
    room.on('partyJoined', this.onJoined);
    room.on('muteChanged', this.onCallersChanged);
    room.on('holdChanged', this.onCallersChanged);
    room.on('coachingChanged', this.onCallersChanged);
    room.on('talkVolumeChanged', this.onCallersChanged);
    room.on('listenVolumeChanged', this.onCallersChanged);
    host.directory.watch(room.name);
    this.media?.on('talking', this.onTalking);
    this.media?.on('stoppedTalking', this.onStoppedTalking);
    this.media?.on('mutedTalking', this.onMutedTalking);
    this.timer = setInterval(() => this.tick(), Math.max(50, Math.floor(host.leaseMs / 3)));
    this.tick();
  }

  get role(): SectionRole {
    return this.roleValue;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** The life of the room this section belongs to (see `RoomDirectory.claim`). */
  get instance(): string {
    return this.instanceValue;
  }

  /** Parties whose calls are on this node (the trunk legs left out). */
  get localPartyCount(): number {
    let count = 0;
    for (const party of this.room.parties) if (!this.isTrunkLeg(party)) count++;
    return count;
  }

  private isTrunkLeg(party: Party): boolean {
    return this.trunkIds.has(party.label ?? '');
  }

  /** Trunk legs this section tells apart from its local parties (see `trunkIds`). */
  get trunkLegCount(): number {
    return this.trunkIds.size;
  }

  /** Why a trunk INVITE for this room must be refused, or undefined to admit it. */
  refusal(tag: TrunkTag): { status: number; reason: string } | undefined {
    if (this.closedValue || this.roleValue !== 'owner') return { status: 404, reason: 'Not The Room Owner' };
    if (tag.epoch !== this.ownedEpoch) return { status: 403, reason: 'Stale Room Epoch' };
    // A lease we could not renew may already belong to someone else: admit nobody on it.
    if (performance.now() - this.lastRenewedAtMs > this.host.leaseMs)
      return { status: 503, reason: 'Room Lease Not Renewed' };
    return undefined;
  }

  /** Takes node `fromNode`'s trunk leg (an incoming call already vetted by `refusal`) into the room. */
  async admit(channel: UASCallChannel, fromNode: string): Promise<void> {
    this.addTrunkChannel(channel);
    this.legNodes.set(channel, fromNode);
    try {
      await channel.answer();
    } catch (error) {
      this.log.warn({ err: error }, 'trunk leg could not be answered');
      return;
    }
    await this.enterRoom(channel);
  }

  /** Clean shutdown: give the lease up first, so a member can claim the room the moment our legs end. */
  async handOver(): Promise<void> {
    const epoch = this.ownedEpoch;
    if (this.roleValue !== 'owner' || epoch === undefined) return;
    this.setRole('member');
    this.ownedEpoch = undefined;
    await this.host.directory
      .leave(this.name, epoch)
      .catch((error: unknown) => this.log.warn({ err: error }, 'could not hand the room over'));
  }

  /** One look at the directory; never two at once. */
  tick(): void {
    if (this.closedValue || this.ticking) return;
    this.ticking = this.check()
      .catch((error: unknown) => this.directoryFailed(error))
      .finally(() => {
        this.ticking = undefined;
      });
  }

  private async check(): Promise<void> {
    const directory = this.host.directory;
    if (this.roleValue === 'owner' && this.ownedEpoch !== undefined) {
      if (await directory.renew(this.name, this.ownedEpoch)) {
        this.lastRenewedAtMs = performance.now();
        await this.writeCallers();
        await this.publishStart();
        await this.dropLegsOfDeadNodes();
        await this.forgetDeadNodes();
        return;
      }
      this.log.warn({ epoch: this.ownedEpoch }, "lost the room lease; dropping the members' trunk legs");
      this.ownedEpoch = undefined;
      this.setRole('member');
      this.hangUpAdmittedTrunks();
    }
    const result = await directory.claim(this.name, this.instanceValue);
    if (result.destroyed) {
      this.log.info('room destroyed by a party on another node (directory marker)');
      this.room.close();
      return;
    }
    this.instanceValue = result.instance;
    // Before the trunk: a room started elsewhere starts here first, so our waiting parties enter
    // and the trunk leg goes into a running room (never one that plays it ringback).
    if (result.started && !this.room.started && !this.room.destroyed) this.startFromCluster();
    // The directory lost the flag (Redis restarted empty) while the room runs: say it again.
    if (!result.started && this.room.started) this.startPublished = false;
    if (result.owner.nodeId === this.host.nodeId) {
      this.ownedEpoch = result.owner.epoch;
      this.lastRenewedAtMs = performance.now();
      if (this.closedValue) return; // close() releases it once this check is over
      if (this.trunk) this.hangUpTrunk();
      const wasOwner = this.roleValue === 'owner';
      if (!wasOwner) this.log.info({ epoch: result.owner.epoch }, 'owns the room');
      this.setRole('owner');
      if (!wasOwner) this.republishLocals();
    } else {
      this.setRole('member');
      if (this.closedValue) return;
      await this.ensureTrunk(result.owner);
    }
    await this.writeCallers();
    await this.publishStart();
    await this.forgetDeadNodes();
  }

  /** The room started on another node. */
  startFromCluster(): void {
    this.startedByCluster = true;
    this.startPublished = true;
    this.room.startRemotely();
  }

  private async publishStart(): Promise<void> {
    if (!this.room.started || this.startPublished) return;
    this.startPublished = true;
    await this.host.directory.markStarted(this.name).catch((error: unknown) => {
      this.startPublished = false;
      throw error;
    });
  }

  private directoryFailed(error: unknown): void {
    if (this.roleValue === 'joining') {
      this.log.warn(
        { err: (error as Error).message },
        'cluster directory unreachable: room served locally (degraded)'
      );
      this.setRole('degraded');
    } else {
      this.log.debug(
        { err: (error as Error).message, role: this.roleValue },
        'cluster directory did not answer; the room goes on'
      );
    }
  }

  private setRole(role: SectionRole): void {
    const previous = this.roleValue;
    if (previous === role) return;
    this.roleValue = role;
    this.host.roleChanged(this, previous);
    if ((previous === 'joining' || previous === 'degraded') && (role === 'member' || role === 'owner')) {
      // Talker events are edges: those sent before this node was in the room (or while it could
      // not publish) are asked for again, and ours are told.
      this.host.directory
        .publish({ room: this.name, type: 'talkersWanted', nodeId: this.host.nodeId })
        .catch((error: unknown) => this.log.debug({ err: error }, 'talker request not published'));
      this.publishLocalTalkers();
    }
  }

  /**
   * The owner's check of its members, as a SIP trunk's OPTIONS qualify: a node whose heartbeat
   * has lapsed is dead, and its legs end now rather than at the RTP inactivity timeout, which
   * would keep a ghost party (and the room, its lease and its media) until then.
   */
  private async dropLegsOfDeadNodes(): Promise<void> {
    for (const nodeId of new Set(this.legNodes.values())) {
      if (!(await this.host.nodeGone(nodeId))) continue;
      for (const [channel, from] of this.legNodes) {
        if (from !== nodeId || this.roleValue !== 'owner') continue;
        this.log.warn({ member: nodeId }, "member's heartbeat lapsed; dropping its trunk leg");
        void channel.hangUp();
      }
    }
  }

  /** Looks after our trunk leg to `owner`; called by every check, so the backoff after a failure holds here. */
  private async ensureTrunk(owner: RoomOwner): Promise<void> {
    const current = this.trunk;
    if (current && current.owner.value === owner.value && current.channel.state !== State.IDLE) return;
    if (current) this.hangUpTrunk();
    if (this.localPartyCount === 0) return;
    // The backoff after a failure is its timer's alone, whoever looks at the directory: a deadline
    // on the wall clock let the periodic check retry early when the clock stepped forward.
    if (this.retryTimer !== undefined) return; // retrySoon's timer looks again then
    const beat = await this.host.directory.node(owner.nodeId);
    if (!beat) {
      // The owner stopped beating (it is going: its lease lapses), or its beat is not back yet in a
      // Redis that stalled or came back empty: look again soon, not a third of a lease later.
      this.retrySoon();
      return;
    }
    if (this.closedValue || this.trunk) return;
    const tag = this.host.signTrunkTag({ room: this.name, epoch: owner.epoch, node: this.host.nodeId });
    if (tag === undefined) {
      this.log.debug({ owner: owner.nodeId }, 'no trunk leg yet: the cluster trunk secret is not known');
      return;
    }
    const channel = this.host.createTrunkChannel();
    this.trunk = { channel, owner };
    this.addTrunkChannel(channel);
    this.log.info(
      { owner: owner.nodeId, epoch: owner.epoch, trunkAddress: beat.trunkAddress },
      'joining the owner over a trunk leg'
    );
    const state = await channel.call(`sip:${this.name}@${beat.trunkAddress}`, {
      headers: { [TRUNK_HEADER]: tag },
      secondsTimeout: 5
    });
    if (state !== State.ANSWERED) {
      this.log.warn({ owner: owner.nodeId, cause: channel.cause() }, 'trunk leg refused or failed');
      if (this.trunk?.channel === channel) this.retrySoon();
      return;
    }
    if (this.closedValue || this.trunk?.channel !== channel || this.localPartyCount === 0) {
      await channel.hangUp();
      return;
    }
    // Not awaited: the leg waits in the room until it starts, and the directory checks go on
    // meanwhile (they are what starts it, when the room started elsewhere before we watched).
    this.enterRoom(channel).catch((error: unknown) => {
      this.log.warn({ err: error }, 'trunk leg could not enter the room');
      void channel.hangUp();
    });
  }

  private addTrunkChannel(channel: UASCallChannel): void {
    this.trunkChannels.set(channel.id, channel);
    this.trunkIds.add(channel.id);
    this.host.trunkCountChanged(1);
    const onState = ({ state }: { state: State }): void => {
      if (state !== State.IDLE) return;
      channel.off('stateChange', onState);
      this.trunkChannels.delete(channel.id);
      this.legNodes.delete(channel);
      // Its party usually left first; one still waiting to enter leaves later (onPartyLeft).
      if (!this.room.parties.some((party) => party.label === channel.id)) this.trunkIds.delete(channel.id);
      this.host.trunkCountChanged(-1);
      if (this.trunk?.channel === channel) {
        this.trunk = undefined;
        this.retrySoon();
      }
    };
    channel.on('stateChange', onState);
  }

  /** The trunk leg joins this room as a party, if this room is still the live one. */
  private async enterRoom(channel: UASCallChannel): Promise<void> {
    if (this.closedValue || this.host.liveRoom(this.name) !== this.room) {
      await channel.hangUp();
      return;
    }
    const state = await channel.transferToConferenceRoom(
      this.host.createChannel(),
      this.name,
      trunkPartyOptions()
    );
    if (state !== State.TRANSFERRED) return;
    this.trunkFailures = 0;
    if (channel === this.trunk?.channel) this.republishLocals();
  }

  /**
   * Our trunk leg is in the room again, or we own it anew: a node that took ours for lost while
   * our heartbeat was missing (we were stopped, or Redis stalled or came back empty) reported them
   * gone ('nodeLost') and never heard of them again; now it does. Nodes that knew them ignore it.
   */
  private republishLocals(): void {
    for (const party of this.room.parties)
      if (!this.isTrunkLeg(party)) this.publishPresence(party, 'joined', undefined);
    this.publishLocalTalkers();
  }

  private retrySoon(): void {
    if (this.closedValue || this.retryTimer) return;
    const delayMs = Math.min(
      this.host.leaseMs,
      RETRY_AFTER_TRUNK_LOSS_MS * 2 ** Math.min(this.trunkFailures++, 8)
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.tick();
    }, delayMs);
  }

  private hangUpTrunk(): void {
    const trunk = this.trunk;
    this.trunk = undefined;
    if (trunk) void trunk.channel.hangUp();
  }

  private hangUpAdmittedTrunks(): void {
    for (const channel of [...this.trunkChannels.values()])
      if (channel !== this.trunk?.channel) void channel.hangUp();
  }

  /** This node's callers (their channel ids, mute, hold, volumes, whom they coach) into the directory's roster of the room. */
  private async writeCallers(): Promise<void> {
    if (this.closedValue) return;
    const callers = this.room.parties
      .filter((party) => !this.isTrunkLeg(party))
      .map((party) => ({
        party: clusterName(party),
        muted: party.muted,
        held: party.held,
        talkVolumeDb: party.talkVolumeDb,
        listenVolumeDb: party.listenVolumeDb,
        coaching: party.coaching && clusterName(party.coaching)
      }));
    await this.host.directory.setCallers(this.name, callers);
  }

  /** A caller came, went, was muted, held or coaching, or its volume was set: the roster is written now, not at the next look. */
  private readonly onCallersChanged = (): void => {
    if (this.roleValue === 'joining' || this.roleValue === 'degraded') return; // the first claim writes it
    this.writeCallers().catch((error: unknown) => this.log.debug({ err: error }, 'roster not written'));
  };

  /**
   * A moderator on another node asked for `moderation` of this node's party of channel
   * `channelId`: applied (and logged, room-moderator.ts) if the party is here, and answered.
   */
  moderated(
    moderation: Moderation,
    channelId: string,
    ask: { nodeId: string; askId: string } | undefined
  ): void {
    const media = this.media;
    (media === undefined ? Promise.resolve(false) : media.moderateHere(moderation, channelId))
      .catch((error: unknown) => {
        this.log.warn({ err: error, ...moderation, channelId }, "another node's moderation failed");
        return error;
      })
      .then((applied) => {
        if (ask === undefined) return;
        return this.host.directory.publish({
          room: this.name,
          type: 'moderated',
          nodeId: this.host.nodeId,
          target: ask.nodeId,
          askId: ask.askId,
          ...answerOf(applied, moderation.action, this.name, channelId)
        });
      })
      .catch((error: unknown) => this.log.debug({ err: error }, 'moderation answer not published'));
  }

  /** Another node answered this node's ask `askId`. */
  answered(askId: string, answer: ModerationAnswer): void {
    this.asks.answered(askId, answer);
  }

  private readonly onTalking = ({ party, levelDbfs }: { party: Party; levelDbfs: number }): void => {
    this.localTalkers.set(party, levelDbfs);
    this.publishTalker(party, 'talking', levelDbfs);
  };
  private readonly onStoppedTalking = ({ party, levelDbfs }: { party: Party; levelDbfs: number }): void => {
    this.localTalkers.delete(party);
    this.publishTalker(party, 'stoppedTalking', levelDbfs);
  };

  /** A muted party here began talking: an edge, told once, never again to a node that comes later. */
  private readonly onMutedTalking = ({ party, levelDbfs }: { party: Party; levelDbfs: number }): void => {
    this.publishTalker(party, 'mutedTalking', levelDbfs);
  };

  /** Tells the other nodes who is talking here now (a node new to the room asked). */
  publishLocalTalkers(): void {
    for (const [party, levelDbfs] of this.localTalkers) this.publishTalker(party, 'talking', levelDbfs);
  }

  private publishTalker(
    party: Party,
    type: 'talking' | 'stoppedTalking' | 'mutedTalking',
    levelDbfs: number
  ): void {
    if (this.roleValue === 'degraded' || this.roleValue === 'joining') return;
    this.host.directory
      .publish({
        room: this.name,
        type,
        nodeId: this.host.nodeId,
        party: clusterName(party),
        levelDbfs
      })
      .catch((error: unknown) => this.log.debug({ err: error }, 'talker event not published'));
  }

  /** A muted party of this room on another node began talking. */
  remoteMutedTalking(event: { nodeId: string; party: string; levelDbfs: number }): void {
    this.media?.reportRemoteMutedTalking({
      nodeId: event.nodeId,
      party: event.party,
      levelDbfs: event.levelDbfs
    });
  }

  /** A talker event from a party of this room on another node. */
  remoteTalker(event: { nodeId: string; party: string; levelDbfs: number }, talking: boolean): void {
    // Once per change: a talker told again (for a node new to the room) is no news here.
    const changed = talking
      ? this.remoteTalkers.add(event.nodeId, event.party)
      : this.remoteTalkers.delete(event.nodeId, event.party);
    if (!changed) return;
    this.media?.reportRemoteTalking(
      { nodeId: event.nodeId, party: event.party, levelDbfs: event.levelDbfs },
      talking
    );
  }

  /**
   * A node that died while its parties talked never says they stopped, nor that they left: once
   * its heartbeat has lapsed, they stop talking here and leave (reason 'nodeLost'), as its trunk
   * leg does at the owner.
   */
  private async forgetDeadNodes(): Promise<void> {
    for (const nodeId of new Set([...this.remoteTalkers.nodes(), ...this.remoteParties.nodes()])) {
      if (!(await this.host.nodeGone(nodeId))) continue;
      for (const party of this.remoteTalkers.take(nodeId)) {
        this.log.info({ node: nodeId, party }, "a talker's node died: it stopped talking");
        this.media?.reportRemoteTalking({ nodeId, party, levelDbfs: -100 }, false);
      }
      for (const party of this.remoteParties.take(nodeId))
        this.media?.reportRemoteParty({ nodeId, party, reason: 'nodeLost' }, false);
    }
  }

  /** A caller of this node entered: the other nodes are told (trunk legs are no callers). */
  private readonly onJoined = ({ party }: { party: Party }): void => {
    if (!this.isTrunkLeg(party)) this.publishPresence(party, 'joined', undefined);
  };

  private publishPresence(party: Party, type: 'joined' | 'left', reason: string | undefined): void {
    this.host.directory
      .publish({ room: this.name, type, nodeId: this.host.nodeId, party: clusterName(party), reason })
      .catch((error: unknown) => this.log.debug({ err: error }, 'presence event not published'));
  }

  /** Another node's caller entered the room or left it; reported once per change. */
  remoteParty(event: { nodeId: string; party: string; reason?: string }, joined: boolean): void {
    // Left without this node having heard it come (it came first): still news here.
    if (joined && !this.remoteParties.add(event.nodeId, event.party)) return;
    if (!joined) this.remoteParties.delete(event.nodeId, event.party);
    this.media?.reportRemoteParty(
      { nodeId: event.nodeId, party: event.party, reason: joined ? undefined : (event.reason ?? 'left') },
      joined
    );
  }

  private readonly onStarted = (): void => {
    if (this.startedByCluster) return;
    this.publishStart().catch((error: unknown) => this.directoryFailed(error));
  };

  /**
   * The party of a trunk leg that has already ended is forgotten. And a member whose last local
   * party left has nothing to bring to the room: its trunk goes, then the room. Not from inside
   * this 'partyLeft': the leaving party's own listeners must see the room (and its media) as it
   * was when it left.
   */
  private readonly onPartyLeft = ({ party, reason }: { party: Party; reason: LeaveReason }): void => {
    if (!this.isTrunkLeg(party)) this.publishPresence(party, 'left', reason);
    const label = party.label ?? '';
    if (this.trunkIds.has(label) && !this.trunkChannels.has(label)) this.trunkIds.delete(label);
    this.onCallersChanged();
    queueMicrotask(() => {
      if (!this.trunk || !this.hasNothingToBring()) return;
      // The leaving party's exit announcement plays into this room, and so over the trunk to the
      // other nodes: the trunk goes once it has been played and has crossed (the owner's jitter
      // buffer holds the last of it).
      const trunk = this.trunk;
      void (this.media?.announcementsPlayed() ?? Promise.resolve())
        .then(() => new Promise((resolve) => setTimeout(resolve, TRUNK_DRAIN_MS).unref()))
        .then(() => {
          if (this.trunk === trunk && this.hasNothingToBring()) this.hangUpTrunk();
        });
    });
  };

  /** A member whose local parties have all left brings nothing to the room. */
  private hasNothingToBring(): boolean {
    return (
      !this.closedValue && !this.room.destroyed && this.roleValue !== 'owner' && this.localPartyCount === 0
    );
  }

  private readonly onDestroyed = ({ reason }: { reason: DestroyReason }): void => {
    this.close(reason);
  };

  private close(reason: DestroyReason): void {
    if (this.closedValue) return;
    this.closedValue = true;
    clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.room.off('started', this.onStarted);
    this.room.off('partyLeft', this.onPartyLeft);
    this.room.off('destroyed', this.onDestroyed);
    this.room.off('partyJoined', this.onCallersChanged);
    this.room.off('partyJoined', this.onJoined);
    this.room.off('muteChanged', this.onCallersChanged);
    this.room.off('holdChanged', this.onCallersChanged);
    this.room.off('coachingChanged', this.onCallersChanged);
    this.room.off('talkVolumeChanged', this.onCallersChanged);
    this.room.off('listenVolumeChanged', this.onCallersChanged);
    this.asks.close();
    this.media?.shareFloor(undefined);
    this.floor.close();
    this.media?.off('talking', this.onTalking);
    this.media?.off('stoppedTalking', this.onStoppedTalking);
    this.media?.off('mutedTalking', this.onMutedTalking);
    const directory = this.host.directory;
    directory.unwatch(this.name);
    // Ended by a party or by the application: every node's parties are retrieved.
    if (reason === 'destroyOnExit' || reason === 'ended')
      this.host.destroyedByParty(this.name, this.instanceValue);
    for (const channel of [...this.trunkChannels.values()]) void channel.hangUp();
    this.trunk = undefined;
    // After any check in flight, which may just have claimed the room.
    void (this.ticking ?? Promise.resolve())
      .then(() => directory.setCallers(this.name, []))
      .then(() => directory.leave(this.name, this.ownedEpoch))
      .catch((error: unknown) => this.log.debug({ err: error }, 'could not leave the room in the directory'));
    this.host.closed(this);
  }
}

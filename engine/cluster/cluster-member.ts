/**
 * What makes an engine a member of a cluster (`EngineOptions.cluster`): a room directory in
 * Redis, a section for each local room, the node's heartbeat, the cluster's room events applied
 * to local rooms, and the door for other nodes' trunk legs. Without the option none of this
 * exists and the engine keeps its rooms in memory only.
 */
import type { Logger } from 'pino';
import { isSipUri, parseUri, type IncomingInvite } from '../../sip/index.js';
import type { UASCallChannel } from '../channel/uas-call-channel.js';
import type { RoomRegistry } from '../conference/room-registry.js';
import type { ConferenceRoom } from '../conference/room.js';
import type { ConferenceMedia } from '../media/conference-media.js';
import { MODERATION_ACTIONS } from '../conference/room-moderator.js';
import { InvalidArgumentError } from '../errors.js';
import { exposeGauge, GaugeCell } from '../observability/metric-cells.js';
import type { EngineMetrics } from '../observability/metrics.js';
import { ThrottledWarning } from '../observability/throttled-warning.js';
import {
  RoomDirectory,
  type NodeHeartbeat,
  type PinCountLimits,
  type RoomEvent,
  type WrongPinResult
} from './room-directory.js';
import type { RedisTarget } from './redis-target.js';
import { RoomSection, type SectionRole } from './room-section.js';
import { DestroyNotice, DESTROY_NOTICE_MS } from './destroy-notice.js';
import {
  formatTrunkTag,
  parseTrunkTag,
  trunkTagSigned,
  TrunkTagLedger,
  TRUNK_HEADER,
  type SignedTrunkTag,
  type TrunkTag
} from './trunk-header.js';
import type { SharedFailureCount, SipRequest } from '../../sip/index.js';

export interface ClusterOptions {
  /** The directory: a unix socket path, a redis:// URL, or connection options. */
  redis: RedisTarget;
  /** This node's name in the cluster, unique among its members ([A-Za-z0-9._-]). */
  nodeId: string;
  /** host:port where other nodes send trunk legs (default: this engine's UDP SIP address). */
  trunkAddress?: string;
  /** How long a room owner's lease lasts without renewal (default 6000 ms); a dead owner is replaced after about this. */
  leaseMs?: number;
  /** Prefix of every Redis key and channel (default 'uasmedia:'). */
  keyPrefix?: string;
  /**
   * The secret that signs trunk legs (at least 16 characters), the same on every member. By
   * default the first member makes one in the directory and the others read it there.
   */
  trunkSecret?: string;
}

/** What the member needs from its engine. */
export interface ClusterHost {
  rooms: RoomRegistry;
  logger: Logger;
  metrics: EngineMetrics;
  createChannel(): UASCallChannel;
  /** A channel for a trunk leg to a room's owner: its dialog hears only the owner (pinned to its 2xx). */
  createTrunkChannel(): UASCallChannel;
  conference(name: string): ConferenceMedia | undefined;
  /** The engine's UDP SIP address as host:port. */
  sipAddress(): string;
  /** SIP dialogs carried: the load in our heartbeat (a caller in a room counts once). */
  activeCalls(): number;
}

/** An incoming INVITE that is another node's trunk leg: refuse it, or admit its channel. */
export type TrunkInvite =
  | { refusal: { status: number; reason: string } }
  | { refusal?: undefined; admit(channel: UASCallChannel): void };

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Throws for options no member could start with (the engine's constructor calls it, and `start`). */
export function checkClusterOptions(options: ClusterOptions): void {
  if (options === null || typeof options !== 'object')
    throw new TypeError('cluster options must be an object');
  const redis: unknown = options.redis;
  if (!(typeof redis === 'string' ? redis.length > 0 : redis !== null && typeof redis === 'object'))
    throw new TypeError(
      `cluster.redis must be a unix socket path, a redis:// URL or connection options, got ${typeof redis}`
    );
  if (typeof options.nodeId !== 'string' || !NODE_ID.test(options.nodeId)) {
    throw new InvalidArgumentError(
      'cluster.nodeId',
      `cluster nodeId '${String(options.nodeId)}' must be 1-64 of [A-Za-z0-9._-]`
    );
  }
  if (
    options.trunkSecret !== undefined &&
    (typeof options.trunkSecret !== 'string' || options.trunkSecret.length < 16)
  ) {
    throw new InvalidArgumentError(
      'cluster.trunkSecret',
      'cluster trunkSecret must be a string of 16 or more'
    );
  }
  if (options.leaseMs !== undefined && !(Number.isInteger(options.leaseMs) && options.leaseMs >= 300)) {
    throw new RangeError(`cluster.leaseMs must be an integer >= 300, got ${String(options.leaseMs)}`);
  }
}

export class ClusterMember {
  readonly nodeId: string;
  readonly leaseMs: number;
  private readonly directory: RoomDirectory;
  private readonly sections = new Map<string, RoomSection>();
  /** Room destructions the directory has not heard of yet. */
  private readonly destroyNotices = new Set<DestroyNotice>();
  private readonly heartbeatTimer: NodeJS.Timeout;
  private readonly log: Logger;
  private readonly degradedRooms = new GaugeCell();
  private readonly ownedRooms = new GaugeCell();
  private readonly trunkLegs = new GaugeCell();
  private closed = false;
  /** A heartbeat of ours has been published (so another one found in its place was written since). */
  private beaten = false;
  /**
   * Since when the directory has held our heartbeat without a break (performance.now()), or
   * undefined while it does not: a heartbeat of ours that failed (Redis away or stalled) or found
   * ours gone (Redis restarted empty, flushed, or we were stopped) starts it again. Until it has
   * lasted a lease, every live node has not beaten again, and a missing heartbeat proves no death.
   */
  private steadySince: number | undefined;
  /** The last heartbeat of another process found under our node id. */
  private rivalSeen: NodeHeartbeat | undefined;
  /**
   * What trunk tags are signed with: the newest first, then the one before it (after the
   * directory lost its secret and a member made a new one, until every member has read it).
   */
  private trunkSecrets: string[] = [];
  /** Tag ids of the trunk legs taken (trunk-header.ts): each is taken once. */
  private readonly takenTags = new TrunkTagLedger();
  /**
   * A member with another trunk secret, or a clock more than the tags' lifetime off, cannot join
   * any room here: its callers hear nobody, and the owner's side said so only at info level.
   */
  private badTrunkTags: ThrottledWarning | undefined;

  private constructor(
    private readonly options: ClusterOptions,
    private readonly host: ClusterHost
  ) {
    this.nodeId = options.nodeId;
    this.leaseMs = options.leaseMs ?? 6000;
    this.log = host.logger.child({ nodeId: this.nodeId });
    if (options.trunkSecret !== undefined) this.trunkSecrets = [options.trunkSecret];
    this.directory = new RoomDirectory({
      redis: options.redis,
      nodeId: this.nodeId,
      leaseMs: this.leaseMs,
      keyPrefix: options.keyPrefix,
      logger: this.log
    });
    const registry = host.metrics.registry;
    exposeGauge(
      registry,
      'uasmedia_cluster_degraded_rooms',
      'Rooms served locally because the cluster directory did not answer.',
      this.degradedRooms
    );
    exposeGauge(
      registry,
      'uasmedia_cluster_owned_rooms',
      'Rooms this node owns in the cluster.',
      this.ownedRooms
    );
    exposeGauge(
      registry,
      'uasmedia_cluster_trunk_legs',
      'Trunk legs between this node and other nodes.',
      this.trunkLegs
    );
    this.directory.on('roomEvent', this.onRoomEvent);
    this.directory.on('reconnected', this.onReconnected);
    host.rooms.on('roomCreated', this.onRoomCreated);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.beatIntervalMs);
  }

  /** Validates the options and connects; an unreachable Redis is not an error (rooms are then served locally). */
  static async start(options: ClusterOptions, host: ClusterHost): Promise<ClusterMember> {
    checkClusterOptions(options);
    const member = new ClusterMember(options, host);
    if (await member.directory.connect()) {
      try {
        await member.refuseTakenNodeId();
      } catch (error) {
        await member.close();
        throw error;
      }
    }
    return member;
  }

  /**
   * Another running process beating under our node id would make two owners of one room (each
   * renews the lease the other claimed, since the lease names the node id) and flip the id's
   * trunk address between them: measured, three callers on three processes, none heard the one
   * on the twin. A heartbeat found at our first beat may be a dead predecessor's (a node started
   * again within a lease of its crash); a live one is written again within a beat, so we look
   * once more after one and a half.
   */
  private async refuseTakenNodeId(): Promise<void> {
    let found: NodeHeartbeat | undefined;
    try {
      found = await this.beat();
    } catch {
      return; // the directory went away meanwhile: the heartbeat timer beats when it is back
    }
    this.beaten = true;
    if (found === undefined) return;
    this.rivalSeen = undefined;
    await new Promise((resolve) => setTimeout(resolve, Math.floor((this.beatIntervalMs * 3) / 2)));
    await this.beat().catch(() => undefined);
    const rival = this.rivalSeen as NodeHeartbeat | undefined;
    if (rival === undefined) return;
    throw new InvalidArgumentError(
      'cluster.nodeId',
      `cluster nodeId '${this.nodeId}' is in use by a running member (trunk address ${rival.trunkAddress}); each member needs its own`
    );
  }

  get trunkAddress(): string {
    return this.options.trunkAddress ?? this.host.sipAddress();
  }

  /** The role of this node in room `name`, if it holds a section of it. */
  roleIn(name: string): SectionRole | undefined {
    return this.sections.get(name)?.role;
  }

  /** Trunk legs the section of room `name` tells apart from its local parties, if it holds one (for tests and operators). */
  trunkLegsIn(name: string): number | undefined {
    return this.sections.get(name)?.trunkLegCount;
  }

  /** Undefined for an ordinary call; for another node's trunk leg, how to refuse or admit it. */
  trunkInvite(invite: IncomingInvite): TrunkInvite | undefined {
    const header = invite.request.get(TRUNK_HEADER);
    if (header === undefined) return undefined;
    const tag = parseTrunkTag(header);
    if (!tag) return { refusal: { status: 400, reason: 'Malformed Trunk Header' } };
    if (!this.signedNow(tag)) {
      // Not from a member (or too old): one answer whatever the room, so nothing is learnt from it.
      const skewSeconds = Math.round(Date.now() / 1000 - tag.ts);
      this.badTrunkTags ??= new ThrottledWarning(
        this.log,
        "trunk legs with a bad signature refused: a member with another cluster.trunkSecret, or a clock more than 120 s off, cannot join this node's rooms"
      );
      this.badTrunkTags.note({
        roomName: tag.room,
        from: tag.node,
        // Signed right but at the wrong time: its sender's clock is that far from ours.
        ...(trunkTagSigned(tag, this.trunkSecrets, tag.ts) && { clockSkewSeconds: skewSeconds })
      });
      return { refusal: { status: 403, reason: 'Forbidden' } };
    }
    // A member dials the room its tag names; a tag taken before is a captured one played again.
    if (userOf(invite.request.uri) !== tag.room || !this.takenTags.take(tag, Date.now() / 1000)) {
      this.log.warn(
        { roomName: tag.room, from: tag.node },
        'trunk leg with a replayed or misdirected tag refused'
      );
      return { refusal: { status: 403, reason: 'Forbidden' } };
    }
    const section = this.sections.get(tag.room);
    const refusal = section ? section.refusal(tag) : { status: 404, reason: 'Not The Room Owner' };
    if (refusal || !section) {
      this.log.info(
        { roomName: tag.room, from: tag.node, epoch: tag.epoch, status: refusal?.status },
        'trunk leg refused'
      );
      return { refusal: refusal ?? { status: 404, reason: 'Not The Room Owner' } };
    }
    return {
      admit: (channel) =>
        void section
          .admit(channel, tag.node)
          .catch((error: unknown) => this.log.warn({ err: error }, 'trunk leg failed'))
    };
  }

  /** Whether `request` is a member's trunk leg, signed (digest authentication does not apply to it). */
  signedTrunk(request: SipRequest): boolean {
    const header = request.get(TRUNK_HEADER);
    const tag = header === undefined ? undefined : parseTrunkTag(header);
    return tag !== undefined && this.signedNow(tag);
  }

  private signedNow(tag: SignedTrunkTag): boolean {
    return trunkTagSigned(tag, this.trunkSecrets, Date.now() / 1000);
  }

  /** The header value of a trunk leg for `tag`, or undefined before the cluster's secret is known. */
  private signTrunkTag(tag: TrunkTag): string | undefined {
    const secret = this.trunkSecrets[0];
    return secret === undefined ? undefined : formatTrunkTag(tag, secret, Date.now() / 1000);
  }

  private async refreshTrunkSecret(): Promise<void> {
    if (this.options.trunkSecret !== undefined) return;
    const secret = await this.directory.trunkSecret();
    if (secret !== undefined && secret !== this.trunkSecrets[0])
      this.trunkSecrets = [secret, ...this.trunkSecrets.slice(0, 1)];
  }

  /** Counts a wrong PIN for `room` across the cluster; rejects when the directory does not answer. */
  wrongPin(room: string, limits: PinCountLimits): Promise<WrongPinResult> {
    return this.directory.wrongPin(room, limits);
  }

  /** Whether `room`'s PIN entry is locked across the cluster; rejects when the directory does not answer. */
  pinLocked(room: string): Promise<boolean> {
    return this.directory.pinLocked(room);
  }

  /**
   * Wrong digest answers counted across the cluster (InviteAdmission's shared count): each
   * engine behind a round-robin front counted its own, so N engines took N times the limit.
   */
  readonly authFailures: SharedFailureCount = {
    fail: (key, limits) => this.directory.countWrong(`auth:${key}`, limits),
    locked: (key) => this.directory.wrongLocked(`auth:${key}`)
  };

  /** Clean shutdown, first step: give up every lease so the members take the rooms over when our calls end. */
  async handOver(): Promise<void> {
    await Promise.allSettled([...this.sections.values()].map((section) => section.handOver()));
  }

  /** Last step, after every room is gone: the heartbeat goes, the connections close. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    for (const notice of [...this.destroyNotices]) notice.close();
    this.host.rooms.off('roomCreated', this.onRoomCreated);
    this.directory.off('roomEvent', this.onRoomEvent);
    this.directory.off('reconnected', this.onReconnected);
    // Let the sections' last directory writes go out before the connection closes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await this.directory.removeNode().catch(() => undefined);
    await this.directory.close();
  }

  private get beatIntervalMs(): number {
    return Math.max(50, Math.floor(this.leaseMs / 3));
  }

  /** Publishes the heartbeat; resolves with another process's it replaced under our node id, if any (also kept in `rivalSeen`). */
  private async beat(): Promise<NodeHeartbeat | undefined> {
    await this.refreshTrunkSecret();
    const previous = await this.directory.heartbeat(
      { trunkAddress: this.trunkAddress, load: this.host.activeCalls() },
      this.leaseMs
    );
    const rival =
      previous?.incarnation !== undefined && previous.incarnation !== this.directory.incarnation
        ? previous
        : undefined;
    if (previous === undefined || this.steadySince === undefined) this.steadySince = performance.now();
    if (rival) this.rivalSeen = rival;
    return rival;
  }

  private async heartbeat(): Promise<void> {
    try {
      const rival = await this.beat();
      // After our own beat, only a live process can have written another in its place.
      if (rival && this.beaten && !this.closed)
        this.log.error(
          { rivalTrunkAddress: rival.trunkAddress },
          'another running process is a cluster member with this node id: rooms may get two owners'
        );
      this.beaten = true;
    } catch (error) {
      this.steadySince = undefined;
      this.log.debug({ err: (error as Error).message }, 'heartbeat not published');
    }
  }

  /**
   * Redis is back (restarted, likely empty): our heartbeat and every room's look at the directory
   * now, not up to a third of a lease later, so the owner's lease and the members' trunk legs are
   * settled while the others' heartbeats come back.
   */
  private readonly onReconnected = (): void => {
    if (this.closed) return;
    void this.heartbeat().then(() => {
      for (const section of this.sections.values()) section.tick();
    });
  };

  /** Whether node `nodeId` died: its heartbeat is missing from a directory that has held ours steadily for a lease. */
  private async nodeGone(nodeId: string): Promise<boolean> {
    if (this.steadySince === undefined || performance.now() - this.steadySince < this.leaseMs) return false;
    const [ours, theirs] = await this.directory.nodes([this.nodeId, nodeId]);
    // Ours gone too: the directory lost them all (a FLUSHALL) since our last beat.
    return ours !== undefined && theirs === undefined;
  }

  private readonly onRoomCreated = ({ room }: { room: ConferenceRoom }): void => {
    if (this.closed) return;
    const section = new RoomSection(room, {
      directory: this.directory,
      nodeGone: (nodeId) => this.nodeGone(nodeId),
      nodeId: this.nodeId,
      leaseMs: this.leaseMs,
      logger: this.log,
      createChannel: () => this.host.createChannel(),
      createTrunkChannel: () => this.host.createTrunkChannel(),
      signTrunkTag: (tag) => this.signTrunkTag(tag),
      liveRoom: (name) => this.host.rooms.get(name),
      conference: (name) => this.host.conference(name),
      roleChanged: (changed, previous) => this.roleChanged(changed.role, previous),
      trunkCountChanged: (delta) => (delta > 0 ? this.trunkLegs.inc(delta) : this.trunkLegs.dec(-delta)),
      destroyedByParty: (name, instance) => this.tellDestroyed(name, instance),
      closed: (closed) => {
        this.roleChanged('joining', closed.role);
        if (this.sections.get(closed.name) === closed) this.sections.delete(closed.name);
      }
    });
    this.sections.set(room.name, section);
  };

  private tellDestroyed(name: string, instance: string): void {
    if (this.closed) return;
    // `done` comes after the first reply at the earliest, so never before this add.
    this.destroyNotices.add(
      new DestroyNotice(
        () => this.directory.markDestroyed(name, instance, DESTROY_NOTICE_MS),
        this.log.child({ roomName: name }),
        (done) => this.destroyNotices.delete(done)
      )
    );
  }

  private roleChanged(role: SectionRole, previous: SectionRole): void {
    if (previous === 'degraded') this.degradedRooms.dec();
    if (previous === 'owner') this.ownedRooms.dec();
    if (role === 'degraded') this.degradedRooms.inc();
    if (role === 'owner') this.ownedRooms.inc();
  }

  private readonly onRoomEvent = (event: RoomEvent): void => {
    const section = this.sections.get(event.room);
    if (!section || section.closed) return;
    if (event.type === 'started') {
      if (!section.room.started) section.startFromCluster();
    } else if (event.type === 'talking' || event.type === 'stoppedTalking' || event.type === 'mutedTalking') {
      if (typeof event.party !== 'string' || typeof event.levelDbfs !== 'number') return;
      if (event.type === 'mutedTalking') section.remoteMutedTalking(event);
      else section.remoteTalker(event, event.type === 'talking');
    } else if (event.type === 'joined' || event.type === 'left') {
      if (typeof event.party === 'string' && (event.reason === undefined || typeof event.reason === 'string'))
        section.remoteParty(event, event.type === 'joined');
    } else if (event.type === 'talkersWanted') {
      section.publishLocalTalkers();
    } else if (event.type === 'moderate') {
      if (
        event.target === this.nodeId &&
        typeof event.party === 'string' &&
        MODERATION_ACTIONS.includes(event.action) &&
        (event.fileToPlay === undefined || typeof event.fileToPlay === 'string') &&
        (event.talkVolumeDb === undefined || typeof event.talkVolumeDb === 'number') &&
        (event.listenVolumeDb === undefined || typeof event.listenVolumeDb === 'number') &&
        (event.askId === undefined || typeof event.askId === 'string')
      )
        section.moderated(
          {
            action: event.action,
            fileToPlay: event.fileToPlay,
            talkVolumeDb: event.talkVolumeDb,
            listenVolumeDb: event.listenVolumeDb
          },
          event.party,
          event.askId === undefined ? undefined : { nodeId: event.nodeId, askId: event.askId }
        );
    } else if (event.type === 'moderated') {
      if (event.target === this.nodeId && typeof event.askId === 'string' && typeof event.ok === 'boolean')
        section.answered(event.askId, {
          ok: event.ok,
          kind: event.kind === 'engine' || event.kind === 'tts' ? event.kind : undefined,
          code: typeof event.code === 'string' ? event.code : undefined,
          message: typeof event.message === 'string' ? event.message : undefined
        });
    } else if (event.type === 'destroyed') {
      // A late or repeated notice of an earlier life of the room leaves this one alone.
      if (event.instance !== undefined && event.instance !== section.instance) return;
      this.log.info({ roomName: event.room, by: event.nodeId }, 'room destroyed on another node');
      section.room.close();
    }
  };
}

/** The user part of a SIP Request-URI (a trunk leg's room), or undefined. */
function userOf(uri: string): string | undefined {
  try {
    const parsed = parseUri(uri);
    return isSipUri(parsed) ? parsed.user : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cluster's room directory in Redis: which node owns each room (a lease with a fencing
 * epoch), which nodes hold a section of it and their callers in it, whether it has started, and
 * each node's heartbeat (its trunk address and load). Room events ('started', 'destroyed',
 * talkers, a moderator's asks) go out on one pub/sub channel per room, which only the nodes
 * holding a section of that room listen to, so their traffic grows with a room's spread, not with
 * the size of the cluster.
 *
 * Client: ioredis. Its commands fail fast instead of queueing while the server is away
 * (`enableOfflineQueue: false`) and time out when it hangs (`commandTimeout`, e.g. during
 * `CLIENT PAUSE`), so a Redis outage turns into rejected Promises the caller handles; it
 * reconnects by itself (`retryStrategy`) and re-subscribes the subscriber connection
 * (`autoResubscribe`); Lua scripts run by EVALSHA with a fallback to EVAL (`defineCommand`).
 */
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { SafeEmitter, type FailureLockoutLimits, type SharedFailure } from '../../sip/index.js';
import type { RedisTarget } from './redis-target.js';
import type { ModerationAction, RosterEntry } from '../conference/room-moderator.js';
import {
  CLAIM_SCRIPT,
  DESTROY_SCRIPT,
  LEAVE_SCRIPT,
  RELEASE_FLOOR_SCRIPT,
  REMOVE_NODE_SCRIPT,
  RENEW_SCRIPT,
  TAKE_FLOOR_SCRIPT,
  WRONG_PIN_SCRIPT
} from './directory-scripts.js';

export interface RoomOwner {
  nodeId: string;
  epoch: number;
  /** The directory's value of the lease, compared by renew and leave. */
  value: string;
}

export type ClaimResult =
  | {
      destroyed: false;
      owner: RoomOwner;
      /** The caller became the owner with this claim. */
      claimed: boolean;
      /** Some node has started the room. */
      started: boolean;
      /** The id of this life of the room (the one proposed, when the room had none). */
      instance: string;
    }
  /** The proposed instance of the room was destroyed (a destroyOnExit party left it): it is not made again. */
  | { destroyed: true; instance: string };

export interface NodeHeartbeat {
  nodeId: string;
  /** host:port of the node's SIP UAS, where trunk legs are sent. */
  trunkAddress: string;
  /** Calls in progress on the node. */
  load: number;
  atMs: number;
  /** This run of the node's process (absent from a node of an older version): two runs beating under one id are two processes. */
  incarnation?: string;
}

export type RoomEvent =
  | { room: string; type: 'started'; nodeId: string }
  | { room: string; type: 'destroyed'; nodeId: string; instance?: string }
  | {
      room: string;
      type: 'talking' | 'stoppedTalking' | 'mutedTalking';
      nodeId: string;
      party: string;
      levelDbfs: number;
    }
  /** A caller of node `nodeId` entered the room or left it (`reason`, its LeaveReason there). */
  | { room: string; type: 'joined' | 'left'; nodeId: string; party: string; reason?: string }
  /** A node new to the room (or back in it) asks who is talking: talker events are edges, not state. */
  | { room: string; type: 'talkersWanted'; nodeId: string }
  /** A moderator on node `nodeId` asks node `target` for `action` on its party of channel `party`. */
  | {
      room: string;
      type: 'moderate';
      nodeId: string;
      target: string;
      /** The ask's id, which the answer carries back (moderation-asks.ts). */
      askId?: string;
      action: ModerationAction;
      fileToPlay?: string;
      talkVolumeDb?: number;
      listenVolumeDb?: number;
      party: string;
    }
  /** Node `nodeId` answers node `target`'s ask `askId`: done (`ok`), or the code and message of what refused it. */
  | {
      room: string;
      type: 'moderated';
      nodeId: string;
      target: string;
      askId: string;
      ok: boolean;
      kind?: 'engine' | 'tts';
      code?: string;
      message?: string;
    };

/** Every RoomEvent type, once: the compiler refuses this table if a type is missing or unknown. */
const ROOM_EVENT_TYPES: Record<RoomEvent['type'], true> = {
  started: true,
  destroyed: true,
  talking: true,
  stoppedTalking: true,
  mutedTalking: true,
  talkersWanted: true,
  joined: true,
  left: true,
  moderate: true,
  moderated: true
};

export type RoomDirectoryEvents = {
  roomEvent: [RoomEvent];
  /** The connection is back after it was lost (Redis restarted, or the network came back). */
  reconnected: [];
};

export interface RoomDirectoryOptions {
  redis: RedisTarget;
  nodeId: string;
  /** How long an owner's lease lasts without renewal (ms). */
  leaseMs: number;
  /** Key prefix, so several clusters may share one Redis. */
  keyPrefix?: string;
  /** A Redis command that takes longer than this fails (ms). */
  commandTimeoutMs?: number;
  logger: Logger;
}

/** How many wrong PINs (`failures`) a room takes in `windowMs` before it takes none for `lockMs`. */
export type PinCountLimits = FailureLockoutLimits;

/** A wrong PIN counted, the one that locked the room, or one not counted since the room was locked. */
export type WrongPinResult = SharedFailure;

type ScriptCommand = (...args: Array<string | number>) => Promise<unknown>;

type Caller = {
  party: string;
  muted: boolean;
  held: boolean;
  /** Absent from what a node of an older version wrote. */
  talkVolumeDb?: number;
  listenVolumeDb?: number;
  coaching?: string;
};

/**
 * A node's callers as it wrote them (`setCallers`); whatever else the key holds is left out. A
 * node of an older version writes no volumes: its callers' are 0 dB, as they were to it.
 */
function parseCallers(value: string): Caller[] {
  let list: unknown;
  try {
    list = JSON.parse(value);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list.filter(
    (c: Partial<Caller> | null): c is Caller =>
      typeof c === 'object' &&
      c !== null &&
      typeof c.party === 'string' &&
      typeof c.muted === 'boolean' &&
      typeof c.held === 'boolean' &&
      isVolumeOrAbsent(c.talkVolumeDb) &&
      isVolumeOrAbsent(c.listenVolumeDb) &&
      (c.coaching === undefined || typeof c.coaching === 'string')
  );
}

function isVolumeOrAbsent(db: unknown): boolean {
  return db === undefined || (typeof db === 'number' && Number.isFinite(db));
}

function parseHeartbeat(value: string): NodeHeartbeat | undefined {
  try {
    return JSON.parse(value) as NodeHeartbeat;
  } catch {
    return undefined;
  }
}

export function parseOwner(value: string): RoomOwner {
  const space = value.lastIndexOf(' ');
  return { nodeId: value.slice(0, space), epoch: Number(value.slice(space + 1)), value };
}

export class RoomDirectory extends SafeEmitter<RoomDirectoryEvents> {
  readonly nodeId: string;
  /** This process's run of node `nodeId`, written in its heartbeat. */
  readonly incarnation = randomBytes(12).toString('base64url');
  private readonly client: Redis;
  /** The highest owner epoch a claim has shown us: the floor of the next one (CLAIM_SCRIPT). */
  private highestEpoch = 0;
  /** Makes each wrong PIN's member of the count unique. */
  private wrongPinCount = 0;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly logger: Logger;
  private closed = false;

  constructor(options: RoomDirectoryOptions) {
    super();
    this.nodeId = options.nodeId;
    this.prefix = options.keyPrefix ?? 'uasmedia:';
    this.leaseMs = options.leaseMs;
    this.logger = options.logger;
    const common: RedisOptions = {
      lazyConnect: true,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000)
    };
    const target = options.redis;
    this.client =
      typeof target === 'string'
        ? new Redis(target, { ...common, enableOfflineQueue: false })
        : new Redis({ ...(target as RedisOptions), ...common, enableOfflineQueue: false });
    // The subscriber may queue its SUBSCRIBE until the first connection is made.
    this.subscriber = this.client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
    this.client.on('error', (error: Error) =>
      this.logger.debug({ err: error.message }, 'cluster directory connection error')
    );
    this.subscriber.on('error', (error: Error) =>
      this.logger.debug({ err: error.message }, 'cluster directory subscriber error')
    );
    this.client.defineCommand('uasmClaim', { numberOfKeys: 6, lua: CLAIM_SCRIPT });
    this.client.defineCommand('uasmRenew', { numberOfKeys: 4, lua: RENEW_SCRIPT });
    this.client.defineCommand('uasmLeave', { numberOfKeys: 4, lua: LEAVE_SCRIPT });
    this.client.defineCommand('uasmDestroy', { numberOfKeys: 5, lua: DESTROY_SCRIPT });
    this.client.defineCommand('uasmRemoveNode', { numberOfKeys: 1, lua: REMOVE_NODE_SCRIPT });
    this.client.defineCommand('uasmTakeFloor', { numberOfKeys: 2, lua: TAKE_FLOOR_SCRIPT });
    this.client.defineCommand('uasmReleaseFloor', { numberOfKeys: 2, lua: RELEASE_FLOOR_SCRIPT });
    this.client.defineCommand('uasmWrongPin', { numberOfKeys: 2, lua: WRONG_PIN_SCRIPT });
    this.subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
    let readyBefore = false;
    this.client.on('ready', () => {
      if (readyBefore && !this.closed) this.safeEmit('reconnected');
      readyBefore = true;
    });
  }

  /** Connects; resolves false (and keeps reconnecting in the background) when Redis is unreachable. */
  async connect(): Promise<boolean> {
    void this.subscriber.connect().catch(() => undefined);
    try {
      await this.client.connect();
      return true;
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message },
        'cluster directory unreachable at start; rooms are served locally until it answers'
      );
      return false;
    }
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  /** Member keys outlive a lease three times over, so a member's refresh every third of a lease keeps them. */
  private get memberTtlMs(): number {
    return this.leaseMs * 3;
  }

  private roomKeys(room: string): string[] {
    const base = `${this.prefix}room:${room}:`;
    return [`${base}owner`, `${base}members`, `${base}started`, `${base}instance`];
  }

  /** Outside the room's keys: it outlives them, and the room is gone while it is there. */
  private destroyedKey(room: string): string {
    return `${this.prefix}destroyed:${room}`;
  }

  private script(name: string): ScriptCommand {
    return (this.client as unknown as Record<string, ScriptCommand>)[name].bind(this.client);
  }

  /**
   * Takes the room if nobody owns it; in any case says who does and refreshes our membership.
   * `instance` is the life of the room our section belongs to (see `ClaimResult`).
   */
  async claim(room: string, instance: string): Promise<ClaimResult> {
    const reply = (await this.script('uasmClaim')(
      ...this.roomKeys(room),
      `${this.prefix}epoch`,
      this.destroyedKey(room),
      this.nodeId,
      this.leaseMs,
      this.memberTtlMs,
      instance,
      this.highestEpoch
    )) as [string, number, number, string, number];
    if (reply[4] === 1) return { destroyed: true, instance: reply[3] };
    const owner = parseOwner(reply[0]);
    if (owner.epoch > this.highestEpoch) this.highestEpoch = owner.epoch;
    return {
      destroyed: false,
      owner,
      claimed: reply[1] === 1,
      started: reply[2] === 1,
      instance: reply[3]
    };
  }

  /**
   * Instance `instance` of the room was destroyed by a destroyOnExit party: marks it so for
   * `markerTtlMs` (every node's next claim sees it), removes its keys, and tells every node.
   */
  async markDestroyed(room: string, instance: string, markerTtlMs: number): Promise<void> {
    const event: RoomEvent = { room, type: 'destroyed', nodeId: this.nodeId, instance };
    await this.script('uasmDestroy')(
      ...this.roomKeys(room),
      this.destroyedKey(room),
      instance,
      markerTtlMs,
      this.eventsChannel(room),
      JSON.stringify(event)
    );
  }

  /**
   * Extends our lease of `room` taken with `epoch`; false when we no longer hold it (it expired,
   * or another node owns the room). The lease compared is always this node's own.
   */
  async renew(room: string, epoch: number): Promise<boolean> {
    const value = `${this.nodeId} ${epoch}`;
    const reply = await this.script('uasmRenew')(
      ...this.roomKeys(room),
      this.nodeId,
      this.leaseMs,
      this.memberTtlMs,
      value
    );
    return reply === 1;
  }

  /** Our section of the room is gone: release our lease (if we own it with `ownedEpoch`), and the room's keys if nobody is left. */
  async leave(room: string, ownedEpoch?: number): Promise<boolean> {
    const value = ownedEpoch === undefined ? '' : `${this.nodeId} ${ownedEpoch}`;
    const reply = await this.script('uasmLeave')(...this.roomKeys(room), this.nodeId, value);
    return reply === 1;
  }

  /** Who owns the room now, if anyone. */
  async owner(room: string): Promise<RoomOwner | undefined> {
    const value = await this.client.get(this.roomKeys(room)[0]);
    return value === null ? undefined : parseOwner(value);
  }

  /** Records that the room has started and tells every node. */
  async markStarted(room: string): Promise<void> {
    await this.client.set(this.roomKeys(room)[2], '1', 'PX', this.memberTtlMs);
    await this.publish({ room, type: 'started', nodeId: this.nodeId });
  }

  async publish(event: RoomEvent): Promise<void> {
    await this.client.publish(this.eventsChannel(event.room), JSON.stringify(event));
  }

  /** Starts receiving `room`'s events (queued until connected; renewed on every reconnection). */
  watch(room: string): void {
    void this.subscriber.subscribe(this.eventsChannel(room)).catch(() => undefined);
  }

  unwatch(room: string): void {
    void this.subscriber.unsubscribe(this.eventsChannel(room)).catch(() => undefined);
  }

  /** Publishes our heartbeat; resolves with the one it replaced (ours, another process's under our id, or none). */
  async heartbeat(
    beat: Omit<NodeHeartbeat, 'nodeId' | 'atMs' | 'incarnation'>,
    ttlMs: number
  ): Promise<NodeHeartbeat | undefined> {
    const value: NodeHeartbeat = {
      nodeId: this.nodeId,
      atMs: Date.now(),
      incarnation: this.incarnation,
      ...beat
    };
    const previous = await this.client.set(
      this.nodeKey(this.nodeId),
      JSON.stringify(value),
      'PX',
      ttlMs,
      'GET'
    );
    return previous === null ? undefined : parseHeartbeat(previous);
  }

  async node(nodeId: string): Promise<NodeHeartbeat | undefined> {
    const value = await this.client.get(this.nodeKey(nodeId));
    return value === null ? undefined : (JSON.parse(value) as NodeHeartbeat);
  }

  /** The heartbeats of `nodeIds`, in that order (undefined for a node with none). */
  async nodes(nodeIds: readonly string[]): Promise<Array<NodeHeartbeat | undefined>> {
    const values = await this.client.mget(nodeIds.map((nodeId) => this.nodeKey(nodeId)));
    return values.map((value) => (value === null ? undefined : parseHeartbeat(value)));
  }

  /** The cluster's trunk secret (trunk-header.ts): made by the first member that asks, read by the rest. */
  async trunkSecret(): Promise<string | undefined> {
    const key = `${this.prefix}trunk-secret`;
    await this.client.set(key, randomBytes(32).toString('base64url'), 'NX');
    // Deleted between the two commands (a FLUSHALL): none this time, the next heartbeat asks again.
    return (await this.client.get(key)) ?? undefined;
  }

  /** Removes our heartbeat, and only ours: another process's under our id is left to it. */
  async removeNode(): Promise<void> {
    await this.script('uasmRemoveNode')(this.nodeKey(this.nodeId), `"incarnation":"${this.incarnation}"`);
  }

  /**
   * This node's callers in `room`, for every node's roster (`ConferenceMedia.roster`): kept for
   * three leases unless written again, so a node that died drops out of it on its own.
   */
  async setCallers(room: string, callers: readonly Caller[]): Promise<void> {
    const key = this.callersKey(room, this.nodeId);
    if (callers.length === 0) await this.client.del(key);
    else await this.client.set(key, JSON.stringify(callers), 'PX', this.memberTtlMs);
  }

  /** Every member node's callers in `room`, as they last wrote them. */
  async roster(room: string): Promise<RosterEntry[]> {
    const nodes = await this.client.zrange(this.roomKeys(room)[1], '0', '-1');
    if (nodes.length === 0) return [];
    const lists = await this.client.mget(nodes.map((nodeId) => this.callersKey(room, nodeId)));
    const roster: RosterEntry[] = [];
    for (const [i, list] of lists.entries()) {
      if (list === null) continue;
      for (const caller of parseCallers(list))
        roster.push({
          nodeId: nodes[i],
          party: caller.party,
          muted: caller.muted,
          held: caller.held,
          talkVolumeDb: caller.talkVolumeDb ?? 0,
          listenVolumeDb: caller.listenVolumeDb ?? 0,
          coaching: caller.coaching
        });
    }
    return roster;
  }

  private callersKey(room: string, nodeId: string): string {
    return `${this.prefix}room:${room}:callers:${nodeId}`;
  }

  /**
   * Takes (or renews) `room`'s announcement floor for `ttlMs`: true when this node may sound now.
   * Refused, it is next in line unless another node already is (TAKE_FLOOR_SCRIPT).
   */
  async takeFloor(room: string, ttlMs: number): Promise<boolean> {
    return (await this.script('uasmTakeFloor')(...this.floorKeys(room), this.nodeId, ttlMs)) === 1;
  }

  /** Gives up `room`'s announcement floor, and our place next in line for it. */
  async releaseFloor(room: string): Promise<void> {
    await this.script('uasmReleaseFloor')(...this.floorKeys(room), this.nodeId);
  }

  private floorKeys(room: string): string[] {
    return [`${this.prefix}room:${room}:floor`, `${this.prefix}room:${room}:floor-next`];
  }

  /**
   * Counts a wrong PIN for `room` across the cluster (WRONG_PIN_SCRIPT): `failures` in
   * `windowMs` lock it for `lockMs`. Says whether it was counted, locked the room, or found it locked.
   */
  async wrongPin(room: string, limits: PinCountLimits): Promise<WrongPinResult> {
    return this.countWrong(`pin:${room}`, limits);
  }

  /** Whether `room`'s PIN entry is locked across the cluster. */
  async pinLocked(room: string): Promise<boolean> {
    return this.wrongLocked(`pin:${room}`);
  }

  /**
   * Counts a failure under `scope` across the cluster (WRONG_PIN_SCRIPT), as `wrongPin` counts a
   * room's: a digest answer's source or account (`auth:source:…`, `auth:account:…`).
   */
  async countWrong(scope: string, limits: PinCountLimits): Promise<WrongPinResult> {
    const reply = await this.script('uasmWrongPin')(
      ...this.wrongKeys(scope),
      limits.failures,
      Math.ceil(limits.windowMs),
      Math.ceil(limits.lockMs),
      `${this.nodeId} ${this.incarnation} ${++this.wrongPinCount}`
    );
    return reply === 2 ? 'locked' : reply === 1 ? 'lockedNow' : 'counted';
  }

  /** Whether failures under `scope` have locked it across the cluster. */
  async wrongLocked(scope: string): Promise<boolean> {
    return (await this.client.exists(this.wrongKeys(scope)[1])) === 1;
  }

  /** Outside any room's keys: a room's PIN count outlives its calls, and a room with none has these. */
  private wrongKeys(scope: string): string[] {
    return [`${this.prefix}${scope}:wrong`, `${this.prefix}${scope}:lock`];
  }

  /** Every key the directory holds for `room` (for tests and operators). */
  async keysOf(room: string): Promise<string[]> {
    return this.client.keys(`${this.prefix}room:${room}:*`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.disconnect();
    this.subscriber.disconnect();
  }

  private eventsChannel(room: string): string {
    return `${this.prefix}room:${room}:events`;
  }

  private nodeKey(nodeId: string): string {
    return `${this.prefix}node:${nodeId}`;
  }

  private onMessage(message: string): void {
    let event: RoomEvent;
    try {
      event = JSON.parse(message) as RoomEvent;
    } catch {
      return;
    }
    if (typeof event?.room !== 'string' || event.nodeId === this.nodeId) return;
    if (typeof event.type !== 'string' || !Object.hasOwn(ROOM_EVENT_TYPES, event.type)) return;
    this.safeEmit('roomEvent', event);
  }
}

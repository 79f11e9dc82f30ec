/**
 * One cluster node for the tests, run as a child process: an Engine on its own loopback address
 * with `cluster` set, answering every call and transferring it into the room named by the
 * request URI. The caller's user name picks its settings:
 * - `wait...` does not start the room (startOnEntry false); everyone else does;
 * - `boss...` ends the room when it leaves (destroyOnExit);
 * - `beep...` is announced with the entry beep (everyone else enters silently);
 * - `late...` does not start the room and gives up waiting after 2 s;
 * - `bye...` is announced when it leaves ("goodbye", spoken);
 * every party mutes with 0, unmutes with 1 and leaves with #. Reports over IPC what happened to
 * each transfer and answers status requests (room roles, sizes, talker events, metrics) and a
 * moderator's requests (`engine.conference(room)`: the roster, mute, unmute, hold (with silence),
 * unhold, talk volume, remove, say, end, and a second's recording into NODE_RECORD_FOLDER).
 */
import {
  Engine,
  State,
  ConferencePartyMediaSettings,
  ConferenceLifetimeControl,
  type RosterEntry
} from '../../../engine/index.js';

export type FromNode =
  | { type: 'ready'; sipPort: number }
  | { type: 'transfer'; user: string; room: string; state: string; transferCause: string; channelId: string }
  | { type: 'retrieved'; user: string; room: string; state: string; transferCause: string }
  | {
      type: 'status';
      id: number;
      roles: Record<string, string | undefined>;
      rooms: Record<string, number>;
      metrics: string;
      talking: string[];
      presence: string[];
      resources: ReturnType<Engine['resources']>;
    }
  | { type: 'moderated'; id: number; error?: string; parties: string[]; roster?: RosterEntry[] };

export type ModeratorAsk =
  | 'mute'
  | 'unmute'
  | 'hold'
  | 'unhold'
  | 'talkVolume'
  | 'listenVolume'
  | 'coach'
  | 'remove'
  | 'say'
  | 'end'
  | 'record'
  | 'roster';
/** A channel id of the node, a party on another node, the text to say, or the file to record a second of the room into. */
export type ModeratorTarget = string | { nodeId?: string; party: string; muted?: boolean; held?: boolean };

export type ToNode =
  | { type: 'status'; id: number; rooms: string[] }
  | {
      type: 'moderate';
      id: number;
      room: string;
      ask: ModeratorAsk;
      target: ModeratorTarget;
      db?: number;
      agent?: ModeratorTarget;
    }
  | { type: 'stop' };

const send = (message: FromNode): void => void process.send?.(message);

const host = process.env.NODE_HOST ?? '127.0.0.1';
const rtpBase = Number(process.env.NODE_RTP_BASE ?? 40000);
const rtpPorts = Number(process.env.NODE_RTP_PORTS ?? 1000);
/** NODE_RTP_INACTIVITY_S: the RTP inactivity timeout (default the engine's, 30 s). */
const inactivityS = process.env.NODE_RTP_INACTIVITY_S;
/** With NODE_AUTH_PASSWORD every caller must authenticate (digest) as any user with it. */
const authPassword = process.env.NODE_AUTH_PASSWORD;
const engine = new Engine({
  access: authPassword
    ? { auth: { realm: 'cluster-test', credentials: () => ({ password: authPassword }) } }
    : undefined,
  sip: { host, port: 0, transports: ['udp'] },
  rtp: {
    minPort: rtpBase,
    maxPort: rtpBase + rtpPorts - 1,
    inactivityTimeoutSeconds: inactivityS === undefined ? undefined : Number(inactivityS)
  },
  logLevel: process.env.NODE_LOG_LEVEL ?? 'warn',
  files: { recordFolder: process.env.NODE_RECORD_FOLDER },
  cluster: {
    redis: process.env.NODE_REDIS as string,
    nodeId: process.env.NODE_ID as string,
    leaseMs: Number(process.env.NODE_LEASE_MS ?? 1500)
  }
});

/** Room talker events as `<room> <event> local|<nodeId>`, in order. */
const talking: string[] = [];
/** Other nodes' callers entering and leaving, as `<room> joined|left <nodeId> <party> [<reason>]`, in order. */
const presence: string[] = [];
const watchedRooms = new WeakSet<object>();

function watchTalkers(room: string): void {
  const media = engine.conference(room);
  if (!media || watchedRooms.has(media)) return;
  watchedRooms.add(media);
  media.on('talking', () => talking.push(`${room} talking local`));
  media.on('stoppedTalking', () => talking.push(`${room} stoppedTalking local`));
  media.on('remoteTalking', (e) => talking.push(`${room} talking ${e.nodeId}`));
  media.on('remoteStoppedTalking', (e) => talking.push(`${room} stoppedTalking ${e.nodeId}`));
  media.on('mutedTalking', () => talking.push(`${room} mutedTalking local`));
  media.on('remoteMutedTalking', (e) => talking.push(`${room} mutedTalking ${e.nodeId}`));
  media.on('remotePartyJoined', (e) => presence.push(`${room} joined ${e.nodeId} ${e.party}`));
  media.on('remotePartyLeft', (e) => presence.push(`${room} left ${e.nodeId} ${e.party} ${e.reason}`));
}

engine.on('call', async (channel) => {
  const user = /sip:([A-Za-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? 'x';
  const room = /sip:([A-Za-z0-9]+)@/.exec(channel.requestUri ?? '')?.[1] ?? 'x';
  await channel.answer();
  const media = new ConferencePartyMediaSettings({
    beepOnEntry: user.startsWith('beep'),
    exitOnDtmfDigit: '#'
  });
  media.muteOnDtmfDigits.setDigits({ mute: '0', unmute: '1' });
  if (user.startsWith('bye')) media.onExitMedia.textToSay('goodbye');
  const state = await channel.transferToConferenceRoom(engine.createChannel(), room, {
    conferenceLifetimeControl: new ConferenceLifetimeControl({
      startOnEntry: !user.startsWith('wait') && !user.startsWith('late'),
      destroyOnExit: user.startsWith('boss')
    }),
    conferencePartyMediaSettings: media,
    secondsTimeout: user.startsWith('late') ? 2 : 30
  });
  watchTalkers(room);
  send({
    type: 'transfer',
    user,
    room,
    state,
    transferCause: channel.transferCause(),
    channelId: channel.id
  });
  if (state !== State.TRANSFERRED) return;
  await channel.waitForTransferredCallRetrieval();
  send({ type: 'retrieved', user, room, state: channel.state, transferCause: channel.transferCause() });
  if (channel.state === State.ANSWERED) await channel.hangUp();
});

async function status(id: number, rooms: string[]): Promise<void> {
  const roles: Record<string, string | undefined> = {};
  const sizes: Record<string, number> = {};
  for (const name of rooms) {
    roles[name] = engine.cluster?.roleIn(name);
    sizes[name] = engine.rooms.get(name)?.size ?? 0;
  }
  send({
    type: 'status',
    id,
    roles,
    rooms: sizes,
    metrics: await engine.metrics.metrics(),
    talking: [...talking],
    presence: [...presence],
    resources: engine.resources()
  });
}

/** A moderator's ask of this node's room. Replies with this node's callers in the room. */
async function moderate(
  id: number,
  room: string,
  ask: ModeratorAsk,
  target: ModeratorTarget,
  db = 0,
  agent: ModeratorTarget = ''
): Promise<void> {
  const conference = engine.conference(room);
  let error: string | undefined;
  let roster: RosterEntry[] | undefined;
  try {
    if (!conference) throw new Error(`no room ${room} here`);
    if (ask === 'end') conference.end();
    else if (ask === 'say') await conference.say(String(target));
    else if (ask === 'record') await conference.record(String(target), { maxSeconds: 1 });
    else if (ask === 'roster') roster = await conference.roster();
    else if (ask === 'talkVolume') await conference.setTalkVolume(target, db);
    else if (ask === 'listenVolume') await conference.setListenVolume(target, db);
    else if (ask === 'coach') await conference.coach(target, agent);
    else await conference[ask](target);
  } catch (e) {
    error = `${(e as Error).name} ${(e as { code?: string }).code ?? ''}: ${(e as Error).message}`;
  }
  const parties = (conference?.parties ?? []).map((p) => `${p.channelId}${p.muted ? ' muted' : ''}`);
  send({ type: 'moderated', id, error, parties, roster });
}

process.on('disconnect', () => process.exit(1));
process.on('message', (message: ToNode) => {
  if (message.type === 'status') void status(message.id, message.rooms);
  else if (message.type === 'moderate')
    void moderate(message.id, message.room, message.ask, message.target, message.db, message.agent);
  else if (message.type === 'stop') void engine.stop().then(() => process.exit(0));
});

await engine.start();
send({ type: 'ready', sipPort: engine.sipAddresses()[0].port });

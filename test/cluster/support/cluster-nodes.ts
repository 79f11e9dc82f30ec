/**
 * Starts and drives cluster nodes (node-app.ts) as child processes from a test: each on its own
 * loopback address, all sharing one temporary redis-server. `kill()` is SIGKILL, a node's death
 * with no goodbye; `stop()` is a clean shutdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromNode, ModeratorAsk, ModeratorTarget, ToNode } from './node-app.js';
import { TonePhone } from '../../support/tone-phone.js';
import { waitFor, waitForAsync } from '../../support/wait.js';

const here = fileURLToPath(new URL('.', import.meta.url));
let nextRequestId = 1;

export interface NodeSpec {
  nodeId: string;
  host: string;
  rtpBase: number;
}

export class ClusterNode {
  readonly events: FromNode[] = [];
  sipPort = 0;
  private constructor(
    readonly spec: NodeSpec,
    private readonly child: ChildProcess
  ) {
    child.on('message', (message: FromNode) => this.events.push(message));
  }

  /**
   * Nodes `node-<id>` for each of `ids`, the i-th on <network>.(firstHost + i) (network default
   * 127.0.0) with its RTP ports from rtpBase + i·rtpPorts (default 1000 each), all started at once.
   */
  static startEach(
    ids: string[],
    layout: { firstHost: number; rtpBase: number; rtpPorts?: number; network?: string },
    redisSocket: string,
    env: Record<string, string> = {}
  ): Promise<ClusterNode[]> {
    return Promise.all(
      ids.map((id, i) =>
        ClusterNode.start(
          {
            nodeId: `node-${id}`,
            host: `${layout.network ?? '127.0.0'}.${layout.firstHost + i}`,
            rtpBase: layout.rtpBase + i * (layout.rtpPorts ?? 1000)
          },
          redisSocket,
          layout.rtpPorts === undefined ? env : { NODE_RTP_PORTS: String(layout.rtpPorts), ...env }
        )
      )
    );
  }

  static async start(
    spec: NodeSpec,
    redisSocket: string,
    env: Record<string, string> = {}
  ): Promise<ClusterNode> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'node-app.ts')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        NODE_ID: spec.nodeId,
        NODE_HOST: spec.host,
        NODE_RTP_BASE: String(spec.rtpBase),
        NODE_REDIS: redisSocket,
        ...env
      }
    });
    const node = new ClusterNode(spec, child);
    const ready = await new Promise<FromNode>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`node ${spec.nodeId} did not start within 30 s`)),
        30000
      );
      child.on('message', (m: FromNode) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve(m);
        }
      });
      child.once('exit', (code) => reject(new Error(`node ${spec.nodeId} exited with ${code}`)));
    });
    node.sipPort = (ready as { sipPort: number }).sipPort;
    return node;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  uri(room: string): string {
    return `sip:${room}@${this.spec.host}:${this.sipPort}`;
  }

  status(rooms: string[]): Promise<Extract<FromNode, { type: 'status' }>> {
    const id = nextRequestId++;
    return this.request({ type: 'status', id, rooms }, (m) =>
      m.type === 'status' && m.id === id ? m : undefined
    );
  }

  /** Asks the node's application to moderate `room` (see node-app.ts; `db` for a volume, `agent` for a coach); resolves with its reply. */
  moderate(
    room: string,
    ask: ModeratorAsk,
    target: ModeratorTarget = '',
    db?: number,
    agent?: ModeratorTarget
  ): Promise<Extract<FromNode, { type: 'moderated' }>> {
    const id = nextRequestId++;
    return this.request({ type: 'moderate', id, room, ask, target, db, agent }, (m) =>
      m.type === 'moderated' && m.id === id ? m : undefined
    );
  }

  /** Sends `message` and resolves with the first message from the node that `reply` picks. */
  private request<T>(message: ToNode, reply: (m: FromNode) => T | undefined): Promise<T> {
    const answered = new Promise<T>((resolve) => {
      const onMessage = (m: FromNode): void => {
        const picked = reply(m);
        if (picked === undefined) return;
        this.child.off('message', onMessage);
        resolve(picked);
      };
      this.child.on('message', onMessage);
    });
    this.child.send(message);
    return answered;
  }

  /** Events about `user`'s transfer into `room`, in order: another test's call by the same user is not this one. */
  eventsOf(user: string, room: string): FromNode[] {
    return this.events.filter((e) => 'user' in e && e.user === user && e.room === room);
  }

  /** SIGSTOP: the node stops answering anything (its heartbeat lapses) without dying; `resume()` is SIGCONT. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  kill(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGKILL');
    return exited;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ type: 'stop' } satisfies ToNode);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }
}

/** A silent phone on `host` that calls `room` at `node` as `user`; resolves once the node transferred it into the room. */
export async function callIntoRoom(
  node: ClusterNode,
  room: string,
  user: string,
  host: string,
  phones: TonePhone[]
): Promise<TonePhone> {
  const phone = await TonePhone.create({ toneHz: null, user, host });
  phones.push(phone);
  await phone.call(node.uri(room));
  await waitFor(
    () => node.eventsOf(user, room).some((e) => e.type === 'transfer' && e.state === 'TRANSFERRED'),
    15000
  );
  return phone;
}

/** Until `room` holds `parties` across `nodes`, each trunk leg counted on both of its ends: the audio path is complete. */
export async function roomConnected(nodes: ClusterNode[], room: string, parties: number): Promise<void> {
  await waitForAsync(async () => {
    const sizes = await Promise.all(nodes.map(async (n) => (await n.status([room])).rooms[room]));
    return sizes.reduce((a, b) => a + b, 0) === parties;
  }, 15000);
}

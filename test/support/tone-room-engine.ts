/**
 * An engine for conference tests over real SIP and RTP: it answers every call and transfers it
 * into the room its Request-URI names (sip:<room>@...), keeping each channel by the caller's user
 * name; `join` calls a room with tone phones and waits until every one is in it.
 */
import {
  ConferenceLifetimeControl,
  ConferencePartyMediaSettings,
  Engine,
  State,
  type EngineOptions,
  type UASCallChannel
} from '../../engine/index.js';
import type { TonePhone } from './tone-phone.js';
import { waitFor } from './wait.js';

export interface ToneRoomEngineOptions {
  rtp: { minPort: number; maxPort: number };
  /** More of the engine's SIP options (transports, TLS, connection limits); UDP on 127.0.0.1 by default. */
  sip?: EngineOptions['sip'];
  logLevel?: string;
  /** The application's own pino logger (the engine makes one at `logLevel` otherwise). */
  logger?: EngineOptions['logger'];
  /** The rooms' sample rate (8 kHz by default). */
  roomSampleRateHz?: EngineOptions['roomSampleRateHz'];
  /** The codecs the engine accepts (its defaults for the room rate otherwise). */
  codecs?: EngineOptions['codecs'];
  /** The engine's play and record folders (none by default). */
  files?: EngineOptions['files'];
  /** The caller's settings in the room, by its user name; no entry beep by default. */
  media?: (user: string) => ConferencePartyMediaSettings;
  /** Whether the caller may talk; true by default. */
  talkerAndListener?: (user: string) => boolean;
}

export class ToneRoomEngine {
  readonly channels = new Map<string, UASCallChannel>();
  #sipPort = 0;
  #sipHost = '127.0.0.1';

  private constructor(readonly engine: Engine) {}

  static async start(options: ToneRoomEngineOptions): Promise<ToneRoomEngine> {
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'], ...options.sip },
      rtp: options.rtp,
      logLevel: options.logLevel,
      logger: options.logger,
      roomSampleRateHz: options.roomSampleRateHz,
      codecs: options.codecs,
      files: options.files
    });
    const rooms = new ToneRoomEngine(engine);
    engine.on('call', async (channel) => {
      await channel.answer();
      const user = /sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '';
      const room = /sip:([A-Za-z0-9]+)@/.exec(channel.requestUri ?? '')?.[1] ?? 'x';
      rooms.channels.set(user, channel);
      await channel.transferToConferenceRoom(engine.createChannel(), room, {
        talkerAndListener: options.talkerAndListener?.(user) ?? true,
        conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
        conferencePartyMediaSettings:
          options.media?.(user) ?? new ConferencePartyMediaSettings({ beepOnEntry: false }),
        secondsTimeout: 10
      });
    });
    await engine.start();
    const sip = engine.sipAddresses().find((a) => a.protocol === 'udp')!;
    rooms.#sipPort = sip.port;
    rooms.#sipHost = sip.host;
    return rooms;
  }

  /** The engine's UDP SIP port. */
  get sipPort(): number {
    return this.#sipPort;
  }

  /** The phones call `room`; resolves once every one is in it (their users must differ). Closes them on failure. */
  async join(room: string, phones: TonePhone[]): Promise<TonePhone[]> {
    try {
      await Promise.all(phones.map((p) => p.call(`sip:${room}@${this.#sipHost}:${this.#sipPort}`)));
      await waitFor(() => phones.every((p) => this.channels.get(p.user)?.state === State.TRANSFERRED));
    } catch (e) {
      await Promise.all(phones.map((p) => p.close()));
      throw e;
    }
    return phones;
  }

  stop(): Promise<void> {
    return this.engine.stop();
  }
}

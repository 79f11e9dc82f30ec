/**
 * RFC 3263 §4.2: a request to a host name with no port goes where the name's SRV records say
 * (`_sip._udp.` or `_sip._tcp.`, RFC 2782: the lowest priority first, by weight among equals),
 * and with none to the name itself on the default port; a name with a port is only looked up.
 * Providers publish their edges this way, and a SIP domain's own A record may well be its web
 * site's.
 *
 * §4.1: a target whose URI names no transport and no port gets its transport from the name's
 * NAPTR records (`protocolFor`): the first, by order and preference, of a service this user
 * agent has (`SIP+D2U`, `SIP+D2T`, `SIPS+D2T`), whose replacement is then the SRV name looked up.
 * With none, the transport whose `_sip` SRV records exist (UDP before TCP).
 *
 * §4.3: a target that failed a transaction (no answer before timer B or F, or a transport error)
 * is tried after the others for a minute, so the next request goes to the next SRV target or
 * address: with its first edge down, a provider is still reached. The failed request itself goes
 * on to the next target (`next`, transaction/target-failover.ts).
 *
 * Names are looked up through `servers` when given (else the system's resolvers), for a minute
 * (c-ares hands over no TTLs). Names without a dot, and `localhost` and `.invalid` ones (RFC 6761:
 * a browser's WebSocket Contact is one), are left to the system.
 * sips: and transport=tls targets use `_sips._tcp` records (port 5061 without them), and each
 * target carries the SIP domain as the name its certificate must show (RFC 5922 §4.1).
 */
import type { SrvRecord } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { TransportAddress } from './transport.js';

/** Answers kept per name (a bound: remote targets come from peers' Contacts too). */
const MAX_NAMES = 1024;
const KEEP_MS = 60_000;
const LOOKUP_TIMEOUT_MS = 2000;
/**
 * SRV records of a name that are used, and targets (addresses) it may have: a request fails over
 * at most this many times, whatever a DNS answer holds (64*T1, 32 s, each over UDP).
 */
const MAX_SRV_RECORDS = 16;
const MAX_TARGETS = 16;
/** NAPTR records of a name that are looked at (RFC 3263 §4.1). */
const MAX_NAPTR_RECORDS = 16;

type Lookup = Promise<TransportAddress | undefined>;
/** The transports whose targets are looked up here; TLS is what sips: URIs (and transport=tls) use. */
export type LookedUpProtocol = 'udp' | 'tcp' | 'tls';

/** §4.2 of RFC 3263: the SRV service of each transport, and the port a name without SRV records gets. */
const SRV_SERVICE: Record<LookedUpProtocol, string> = {
  udp: '_sip._udp',
  tcp: '_sip._tcp',
  tls: '_sips._tcp'
};
const DEFAULT_PORT: Record<LookedUpProtocol, number> = { udp: 5060, tcp: 5060, tls: 5061 };
/** RFC 3263 §4.1 NAPTR services, by the transport each names; SCTP and WebSocket ones are not ours. */
const NAPTR_SERVICES: ReadonlyMap<string, LookedUpProtocol> = new Map([
  ['SIP+D2U', 'udp'],
  ['SIP+D2T', 'tcp'],
  ['SIPS+D2T', 'tls']
]);

/** A lookup's answer, kept until `until` (c-ares hands over no TTLs). */
interface Kept<V> {
  until: number;
  answer: Promise<V>;
}

/** A usable NAPTR record: its transport, and the SRV name it replaces the name with. */
interface NaptrChoice {
  protocol: LookedUpProtocol;
  srvName: string;
}

export class DnsTargets {
  readonly #resolver: Resolver;
  /** Each name's targets, in the order to try them. */
  readonly #answers = new Map<string, Kept<TransportAddress[]>>();
  /** Targets that failed a transaction (`host port`), until when they are tried last. */
  readonly #failed = new Map<string, number>();
  /** Each name's usable NAPTR records, in the order to use them. */
  readonly #naptrs = new Map<string, Kept<NaptrChoice[]>>();
  /** Each SRV name's records: asked once for a transport choice and the request that follows it. */
  readonly #srvs = new Map<string, Kept<SrvRecord[]>>();

  constructor(servers?: readonly string[]) {
    this.#resolver = new Resolver({ timeout: LOOKUP_TIMEOUT_MS, tries: 2 });
    if (servers !== undefined && servers.length > 0) this.#resolver.setServers([...servers]);
  }

  /** Ends the lookups under way (each then gives no target) and forgets every answer. */
  close(): void {
    this.#resolver.cancel();
    this.#answers.clear();
    this.#failed.clear();
    this.#naptrs.clear();
    this.#srvs.clear();
  }

  /** Whether targets over `protocol` are looked up here (WebSocket peers are reached over their own connections). */
  static serves(protocol: string): protocol is LookedUpProtocol {
    return protocol === 'udp' || protocol === 'tcp' || protocol === 'tls';
  }

  /** Whether `host` is a name this looks up (not an address, not local). */
  static looksUp(host: string): boolean {
    return isIP(host) === 0 && host.includes('.') && !/(^|\.)(localhost|invalid)\.?$/i.test(host);
  }

  /**
   * §4.1: the transport to reach `host` (a name) by, for a URI that names no transport and no
   * port (`secure`: a sips: URI, reached over TLS only). The first usable NAPTR record's, of the
   * transports `usable` says we have; else the first whose SRV records exist; undefined when
   * the name says nothing usable.
   */
  async protocolFor(
    host: string,
    secure: boolean,
    usable: (protocol: LookedUpProtocol) => boolean
  ): Promise<LookedUpProtocol | undefined> {
    const wanted = (protocol: LookedUpProtocol): boolean =>
      (!secure || protocol === 'tls') && usable(protocol);
    const candidates = ((secure ? ['tls'] : ['udp', 'tcp']) as LookedUpProtocol[]).filter(wanted);
    // Asked together: an unanswering server costs one lookup's time, not three.
    const [naptrs, srvFound] = await Promise.all([
      this.#naptrChoices(host),
      Promise.all(
        candidates.map((protocol) =>
          this.#srvRecords(`${SRV_SERVICE[protocol]}.${host}`).then((records) => records.length > 0)
        )
      )
    ]);
    return naptrs.find((c) => wanted(c.protocol))?.protocol ?? candidates.find((_, i) => srvFound[i]);
  }

  #srvRecords(name: string): Promise<SrvRecord[]> {
    return keptAnswer(this.#srvs, name.toLowerCase(), () => this.#resolver.resolveSrv(name).catch(() => []));
  }

  #naptrChoices(host: string): Promise<NaptrChoice[]> {
    return keptAnswer(this.#naptrs, host.toLowerCase(), () =>
      this.#resolver
        .resolveNaptr(host)
        .then(usableNaptrs)
        .catch(() => [])
    );
  }

  /**
   * Where to send to `host` (a name) over `protocol`: `port` undefined means the URI gave none,
   * so SRV applies. The first target that has not failed lately, else the first. Undefined when
   * nothing resolves: the caller sends to the name as it is.
   */
  target(host: string, port: number | undefined, protocol: LookedUpProtocol): Lookup {
    return this.next(host, port, protocol, []);
  }

  /**
   * As `target`, passing over `tried` (the targets a request has already failed at, §4.3):
   * undefined when none is left.
   */
  async next(
    host: string,
    port: number | undefined,
    protocol: LookedUpProtocol,
    tried: readonly TransportAddress[]
  ): Lookup {
    const targets = await this.#targets(host, port, protocol);
    const triedKeys = new Set(tried.map(targetKey));
    const untried = targets.filter((t) => !triedKeys.has(targetKey(t)));
    const now = performance.now();
    return untried.find((t) => !this.#hasFailed(t, now)) ?? untried[0];
  }

  /** `target` failed a transaction: it is tried after the others for a minute. */
  failed(target: TransportAddress): void {
    keepNewest(this.#failed, targetKey(target), performance.now() + KEEP_MS);
  }

  #hasFailed(target: TransportAddress, now: number): boolean {
    const key = targetKey(target);
    const until = this.#failed.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#failed.delete(key);
    return false;
  }

  #targets(host: string, port: number | undefined, protocol: LookedUpProtocol): Promise<TransportAddress[]> {
    return keptAnswer(this.#answers, `${protocol} ${host} ${port ?? ''}`, () =>
      this.#lookUp(host, port, protocol).catch(() => [])
    );
  }

  async #lookUp(
    host: string,
    port: number | undefined,
    protocol: LookedUpProtocol
  ): Promise<TransportAddress[]> {
    const targets = await this.#srvTargets(host, port, protocol);
    // RFC 5922 §4.1: over TLS the certificate must name the SIP domain, whichever target answers.
    return protocol === 'tls' ? targets.map((t) => ({ ...t, serverName: host })) : targets;
  }

  async #srvTargets(
    host: string,
    port: number | undefined,
    protocol: LookedUpProtocol
  ): Promise<TransportAddress[]> {
    if (port !== undefined) return this.#addresses(host, port);
    // The NAPTR record `protocolFor` chose this transport by names the SRV records to look up.
    const naptr = this.#naptrs.get(host.toLowerCase());
    const chosen = naptr && (await naptr.answer).find((c) => c.protocol === protocol);
    const srvName = chosen?.srvName ?? `${SRV_SERVICE[protocol]}.${host}`;
    const records = await this.#srvRecords(srvName);
    // Looked up together, so a slow server costs one lookup's time, not one per record.
    const lists = await Promise.all(
      ordered(records)
        .slice(0, MAX_SRV_RECORDS)
        .map((record) => this.#addresses(record.name, record.port))
    );
    const targets = lists.flat().slice(0, MAX_TARGETS);
    return targets.length > 0 ? targets : this.#addresses(host, DEFAULT_PORT[protocol]);
  }

  /** §4.2: every address of `name` is a target, IPv4 first. */
  async #addresses(name: string, port: number): Promise<TransportAddress[]> {
    if (isIP(name) !== 0) return [{ host: name, port }];
    const [v4, v6] = await Promise.all([
      this.#resolver.resolve4(name).catch(() => []),
      this.#resolver.resolve6(name).catch(() => [])
    ]);
    return [...v4, ...v6].slice(0, MAX_TARGETS).map((host) => ({ host, port }));
  }
}

/** RFC 3403/3263: SRV-flagged records of our services, by order then preference. */
function usableNaptrs(
  records: Array<{ flags: string; service: string; replacement: string; order: number; preference: number }>
): NaptrChoice[] {
  const choices: Array<NaptrChoice & { order: number; preference: number }> = [];
  for (const record of records.slice(0, MAX_NAPTR_RECORDS)) {
    const protocol = NAPTR_SERVICES.get(record.service.toUpperCase());
    if (protocol === undefined || record.flags.toLowerCase() !== 's' || record.replacement === '') continue;
    choices.push({
      protocol,
      srvName: record.replacement,
      order: record.order,
      preference: record.preference
    });
  }
  choices.sort((a, b) => a.order - b.order || a.preference - b.preference);
  return choices.map(({ protocol, srvName }) => ({ protocol, srvName }));
}

function targetKey(target: TransportAddress): string {
  return `${target.host} ${target.port}`;
}

/** The answer kept for `key` while it is fresh; else a new lookup's, kept for a minute. */
function keptAnswer<V>(map: Map<string, Kept<V>>, key: string, lookUp: () => Promise<V>): Promise<V> {
  const now = performance.now();
  const kept = map.get(key);
  if (kept && kept.until > now) return kept.answer;
  const answer = lookUp();
  keepNewest(map, key, { until: now + KEEP_MS, answer });
  return answer;
}

/** Sets `key` as the newest entry of `map`, making room by the oldest past MAX_NAMES entries. */
function keepNewest<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MAX_NAMES) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

/** RFC 2782: by priority, and within one priority a weighted random order. */
function ordered(records: Array<{ name: string; port: number; priority: number; weight: number }>) {
  const byPriority = [...records].sort((a, b) => a.priority - b.priority);
  const out: typeof records = [];
  while (byPriority.length > 0) {
    const priority = byPriority[0].priority;
    const group = byPriority.filter((r) => r.priority === priority);
    byPriority.splice(0, group.length);
    while (group.length > 0) {
      const total = group.reduce((sum, r) => sum + r.weight, 0);
      let pick = Math.random() * total;
      let index = group.findIndex((r) => (pick -= r.weight) < 0);
      if (index < 0) index = 0;
      out.push(...group.splice(index, 1));
    }
  }
  return out;
}

/**
 * RFC 3263 §4.2 without NAPTR: a request to a host name with no port goes where the name's SRV
 * records say (`_sip._udp.` or `_sip._tcp.`, RFC 2782: the lowest priority first, by weight
 * among equals), and with none to the name itself on the default port; a name with a port is
 * only looked up. Providers publish their edges this way, and a SIP domain's own A record may
 * well be its web site's.
 *
 * Names are looked up through `servers` when given (else the system's resolvers), for a minute
 * (c-ares hands over no TTLs). Names without a dot, and `localhost` and `.invalid` ones (RFC 6761:
 * a browser's WebSocket Contact is one), are left to the system.
 * sips:/TLS targets are not looked up here: their certificate must name the SIP domain
 * (RFC 5922), which the connection is opened to.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { TransportAddress } from './transport.js';

/** Answers kept per name (a bound: remote targets come from peers' Contacts too). */
const MAX_NAMES = 1024;
const KEEP_MS = 60_000;
const LOOKUP_TIMEOUT_MS = 2000;

type Lookup = Promise<TransportAddress | undefined>;

export class DnsTargets {
  readonly #resolver: Resolver;
  readonly #answers = new Map<string, { until: number; target: Lookup }>();

  constructor(servers?: readonly string[]) {
    this.#resolver = new Resolver({ timeout: LOOKUP_TIMEOUT_MS, tries: 2 });
    if (servers !== undefined && servers.length > 0) this.#resolver.setServers([...servers]);
  }

  /** Ends the lookups under way (each then gives no target) and forgets every answer. */
  close(): void {
    this.#resolver.cancel();
    this.#answers.clear();
  }

  /** Whether `host` is a name this looks up (not an address, not local). */
  static looksUp(host: string): boolean {
    return isIP(host) === 0 && host.includes('.') && !/(^|\.)(localhost|invalid)\.?$/i.test(host);
  }

  /**
   * Where to send to `host` (a name) over `protocol`: `port` undefined means the URI gave none,
   * so SRV applies. Undefined when nothing resolves: the caller sends to the name as it is.
   */
  target(host: string, port: number | undefined, protocol: 'udp' | 'tcp'): Lookup {
    const key = `${protocol} ${host} ${port ?? ''}`;
    const now = Date.now();
    const kept = this.#answers.get(key);
    if (kept && kept.until > now) return kept.target;
    const target = this.#lookUp(host, port, protocol).catch(() => undefined);
    this.#answers.delete(key);
    if (this.#answers.size >= MAX_NAMES) this.#answers.delete(this.#answers.keys().next().value as string);
    this.#answers.set(key, { until: now + KEEP_MS, target });
    return target;
  }

  async #lookUp(host: string, port: number | undefined, protocol: 'udp' | 'tcp'): Lookup {
    if (port !== undefined) return this.#address(host, port);
    const records = await this.#resolver.resolveSrv(`_sip._${protocol}.${host}`).catch(() => []);
    for (const record of ordered(records)) {
      const found = await this.#address(record.name, record.port);
      if (found) return found;
    }
    return this.#address(host, 5060);
  }

  async #address(name: string, port: number): Lookup {
    if (isIP(name) !== 0) return { host: name, port };
    const v4 = await this.#resolver.resolve4(name).catch(() => []);
    if (v4.length > 0) return { host: v4[0], port };
    const v6 = await this.#resolver.resolve6(name).catch(() => []);
    return v6.length > 0 ? { host: v6[0], port } : undefined;
  }
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

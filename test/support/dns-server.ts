/**
 * A DNS server on a loopback UDP socket for tests that need names: it answers NAPTR, SRV, A and AAAA
 * questions from a table (packets through dns-packet) and NXDOMAIN to anything else, and counts
 * the questions it was asked.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import * as packet from 'dns-packet';

export type DnsRecord =
  | { type: 'SRV'; name: string; priority: number; weight: number; port: number; target: string }
  | { type: 'A' | 'AAAA'; name: string; address: string }
  | {
      type: 'NAPTR';
      name: string;
      order: number;
      preference: number;
      flags: string;
      services: string;
      replacement: string;
    };

export class TestDnsServer {
  readonly questions: string[] = [];

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly records: DnsRecord[]
  ) {
    socket.on('message', (data, from) => this.answer(data, from));
  }

  static async start(records: DnsRecord[], host = '127.0.0.1'): Promise<TestDnsServer> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, host);
    await once(socket, 'listening');
    return new TestDnsServer(socket, records);
  }

  /** `host:port`, as `setServers` and `sip.dnsServers` take it. */
  get address(): string {
    const { address, port } = this.socket.address();
    return `${address}:${port}`;
  }

  private answer(data: Buffer, from: dgram.RemoteInfo): void {
    let query: packet.Packet;
    try {
      query = packet.decode(data);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    this.questions.push(`${question.type} ${question.name}`);
    const answers: packet.Answer[] = this.records
      .filter((r) => r.type === question.type && r.name.toLowerCase() === question.name.toLowerCase())
      .map((r): packet.Answer => {
        if (r.type === 'SRV')
          return {
            type: 'SRV',
            name: r.name,
            ttl: 60,
            data: { priority: r.priority, weight: r.weight, port: r.port, target: r.target }
          };
        if (r.type === 'NAPTR') {
          const { order, preference, flags, services, replacement } = r;
          return {
            type: 'NAPTR',
            name: r.name,
            ttl: 60,
            data: { order, preference, flags, services, regexp: '', replacement }
          };
        }
        return { type: r.type, name: r.name, ttl: 60, data: r.address };
      });
    const known = this.records.some((r) => r.name.toLowerCase() === question.name.toLowerCase());
    const response = packet.encode({
      type: 'response',
      id: query.id,
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (known ? 0 : 3), // rcode 3: NXDOMAIN
      questions: [question],
      answers
    });
    this.socket.send(response, from.port, from.address);
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * The transaction table: finds the client or server transaction a message belongs to and
 * forgets transactions when they terminate. Closing it ends every transaction's timers.
 */
import { SipError } from '../errors.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { InviteClientTransaction } from './invite-client.js';
import type { InviteServerTransaction } from './invite-server.js';
import { clientTransactionKey, serverTransactionKey } from './keys.js';
import type { NonInviteClientTransaction } from './non-invite-client.js';
import type { NonInviteServerTransaction } from './non-invite-server.js';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export class TransactionLayer {
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();

  get size(): number {
    return this.clients.size + this.servers.size;
  }

  addClient(tx: ClientTransaction): void {
    this.clients.set(tx.key, tx);
    tx.onTerminated = () => {
      if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
    };
  }

  addServer(tx: ServerTransaction): void {
    this.servers.set(tx.key, tx);
    tx.onTerminated = () => {
      if (this.servers.get(tx.key) === tx) this.servers.delete(tx.key);
    };
  }

  findClient(response: SipResponse): ClientTransaction | undefined {
    return this.clients.get(clientTransactionKey(response));
  }

  /** `flow`: flowOfRequest of where the request came from (keys.ts). */
  findServer(request: SipRequest, flow: string): ServerTransaction | undefined {
    return this.servers.get(serverTransactionKey(request, flow));
  }

  findServerByKey(key: string): ServerTransaction | undefined {
    return this.servers.get(key);
  }

  /**
   * Terminates every transaction (timers cleared). A client transaction still waiting for its
   * answer tells its user it is closed, so whoever awaits the request is not left waiting for
   * good (an unregister at stop whose registrar never answers).
   */
  close(): void {
    const closed = new SipError('ERR_CLOSED', 'the SIP user agent closed before an answer came');
    for (const tx of this.clients.values()) tx.transportError(closed);
    for (const tx of [...this.clients.values(), ...this.servers.values()]) tx.terminate();
    this.clients.clear();
    this.servers.clear();
  }
}

/**
 * The transaction table: finds the client or server transaction a message belongs to and
 * forgets transactions when they terminate. Closing it ends every transaction's timers.
 */
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

  findServer(request: SipRequest): ServerTransaction | undefined {
    return this.servers.get(serverTransactionKey(request));
  }

  findServerByKey(key: string): ServerTransaction | undefined {
    return this.servers.get(key);
  }

  /** Terminates every transaction (timers cleared). */
  close(): void {
    for (const tx of [...this.clients.values(), ...this.servers.values()]) tx.terminate();
    this.clients.clear();
    this.servers.clear();
  }
}

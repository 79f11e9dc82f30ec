/**
 * Names held per node of a cluster (the other nodes' talkers, their callers), so that each is
 * reported once when it comes and once when it goes, and all of a node's at once when the node
 * is lost.
 */
export class PerNodeNames {
  readonly #names = new Map<string, Set<string>>();

  /** Adds `name` for `nodeId`; false when it was there already. */
  add(nodeId: string, name: string): boolean {
    let names = this.#names.get(nodeId);
    if (names?.has(name)) return false;
    if (!names) this.#names.set(nodeId, (names = new Set()));
    names.add(name);
    return true;
  }

  /** Removes `name` of `nodeId`; false when it was not there. */
  delete(nodeId: string, name: string): boolean {
    const names = this.#names.get(nodeId);
    if (!names?.delete(name)) return false;
    if (names.size === 0) this.#names.delete(nodeId);
    return true;
  }

  nodes(): string[] {
    return [...this.#names.keys()];
  }

  /** Every name of `nodeId`, forgotten. */
  take(nodeId: string): string[] {
    const names = this.#names.get(nodeId);
    this.#names.delete(nodeId);
    return names ? [...names] : [];
  }
}

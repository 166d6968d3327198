import type { SelectorFactory, ServerSelector, ServerSpec } from './ServerSelector.js';

/**
 * Every key to the first server of the list: for servers that are interchangeable, such as
 * proxies (twemproxy, mcrouter) in front of one pool, where hashing is the proxy's job. The router
 * builds it over the live servers, so when the first is ejected keys fail over to the next one in
 * list order, and come back when it rejoins.
 */
export class PrimarySelector implements ServerSelector {
  readonly ids: readonly string[];
  private readonly first: string | undefined;

  constructor(servers: readonly ServerSpec[]) {
    this.ids = servers.map((s) => s.id);
    this.first = this.ids[0];
  }

  pick(_key: Uint8Array): string | undefined {
    return this.first;
  }
}

export const primarySelector: SelectorFactory = (servers) => new PrimarySelector(servers);

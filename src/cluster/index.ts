export type { ClusterChange, ClusterChangeListener, ClusterRouterOptions } from './ClusterRouter.js';
export { ClusterRouter } from './ClusterRouter.js';
export {
  KETAMA_DEFAULT_PORT,
  KETAMA_POINTS_PER_SERVER,
  KetamaRing,
  ketamaPointCount,
  ketamaPointKey,
  ketamaSelector,
} from './KetamaRing.js';
export { md5Word0, md5Words } from './md5.js';
export { murmur3_32 } from './murmur3.js';
export { RendezvousSelector, rendezvousNodeName, rendezvousSelector } from './RendezvousSelector.js';
export type { ServerHealthOptions, ServerHealthState } from './ServerHealth.js';
export { ServerHealth } from './ServerHealth.js';
export type { SelectorFactory, ServerSelector, ServerSpec } from './ServerSelector.js';
export { serverId } from './ServerSelector.js';

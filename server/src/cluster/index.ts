export {
  createClusterLease,
  createLeaseRepo,
  LEASES,
  newHolderId,
  type ClusterLease,
  type LeaseRepo,
  type LeaseRow,
} from './lease.ts';
export { createSharedCounters, type SharedCounters, type WindowCount, type WindowCounter } from './rate-windows.ts';

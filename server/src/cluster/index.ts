export {
  createClusterLease,
  createLeaseRepo,
  LEASES,
  newHolderId,
  type ClusterLease,
  type LeaseRepo,
  type LeaseRow,
} from './lease.ts';

/**
 * Object storage (SPEC 14): ship a local log to an S3-compatible bucket and
 * index a log from one. Re-exports only.
 *
 * @module
 */
export {
  type BucketLocation,
  BucketUrlError,
  formatBucketUrl,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  ObjectStoreError,
  type ObjectStoreErrorKind,
  parseBucketUrl,
  type PutResult,
} from "./object_store.ts";
export {
  openS3Store,
  resolveS3Endpoint,
  type S3Endpoint,
  s3EndpointFromEnv,
  type S3StoreOptions,
} from "./s3.ts";
export {
  CHUNK_BYTES_MAX,
  overwritingServerWarning,
  RemoteConflictError,
  shipOnce,
  type ShipOptions,
  Shipper,
  ShipperLockedError,
  type ShipReport,
} from "./ship.ts";
export {
  type BucketDaemonOptions,
  type BucketIndexOptions,
  type BucketIndexReport,
  cacheRootFor,
  mirrorBucket,
  type MirrorReport,
  rebuildIndexFromBucket,
  runBucketDaemon,
  type SharedRunIds,
} from "./bucket_index.ts";

import type { Store } from '../db/store.ts';

/** The RTMP publish keys (推流密钥), stored as hashes only: one per camera point. */
export interface IngestKeyRepo {
  /** Every point's key hash. */
  all(): Promise<Map<number, string>>;
  /** Whether the point has a key. */
  has(cameraId: number): Promise<boolean>;
  /** Sets the point's key (replacing one it had). */
  put(k: { cameraId: number; keyHash: string; createdAt: string; createdBy: number }): Promise<void>;
  /** Removes the point's key; false when it had none. */
  remove(cameraId: number): Promise<boolean>;
}

export function createIngestKeyRepo(store: Store): IngestKeyRepo {
  return {
    async all() {
      const rows = await store.all<{ camera_id: number; key_hash: string }>(
        'SELECT camera_id, key_hash FROM ingest_keys',
      );
      return new Map(rows.map((r) => [r.camera_id, r.key_hash]));
    },
    async has(cameraId) {
      return (await store.get('SELECT camera_id FROM ingest_keys WHERE camera_id = ?', [cameraId])) !== undefined;
    },
    async put({ cameraId, keyHash, createdAt, createdBy }) {
      await store.run(
        `INSERT INTO ingest_keys (camera_id, key_hash, created_at, created_by) VALUES (?, ?, ?, ?)
         ON CONFLICT (camera_id) DO UPDATE SET key_hash = excluded.key_hash, created_at = excluded.created_at, created_by = excluded.created_by`,
        [cameraId, keyHash, createdAt, createdBy],
      );
    },
    async remove(cameraId) {
      return (await store.run('DELETE FROM ingest_keys WHERE camera_id = ?', [cameraId])).changes > 0;
    },
  };
}

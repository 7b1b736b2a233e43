/**
 * Retention and the quota with a stand-in recorder (no ffmpeg): the oldest segments go first when the quota
 * is reached, never those an evidence clip waits for; recording stops cleanly with a reason when nothing can
 * be freed or the disk is full; a plan's retention days expire old segments. Plus the pure parts: spans and
 * gaps, weekly schedules, the VOD playlist.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/index.ts';
import { BUILTIN_NETWORKS, createNetworkRepo } from '../cameras/networks.ts';
import { createCameraRepo } from '../cameras/repo.ts';
import { loadConfig } from '../config/load.ts';
import { createSecretBox } from '../crypto/secret-box.ts';
import { migrate } from '../db/migrations.ts';
import { openSqlite } from '../db/sqlite.ts';
import { sqliteStore } from '../db/store.ts';
import { seedDemo } from '../demo/seed.ts';
import { createEventBus } from '../events.ts';
import { createLogger } from '../http/logger.ts';
import { createOrgRepo } from '../org/repo.ts';
import { createUserRepo } from '../auth/index.ts';
import type { RecordedFile, RecordingEngine } from './engine.ts';
import { createRecordingRepo } from './repo.ts';
import { spansOf, vodPlaylist } from './playback.service.ts';
import { createRecordingService, inSchedule } from './service.ts';

const GB = 1024 ** 3;

async function setup(opts: { quotaGb: number; freeBytes: number }) {
  const db = openSqlite(':memory:');
  const now = () => new Date();
  migrate(db, now);
  const store = sqliteStore(db);
  const orgs = createOrgRepo(store, now);
  await orgs.load();
  await createNetworkRepo(store).sync([...BUILTIN_NETWORKS]);
  const cameras = createCameraRepo(store, now, () =>
    orgs
      .all()
      .filter((u) => u.parentId === null)
      .map((u) => u.path),
  );
  const secrets = createSecretBox(randomBytes(32));
  await seedDemo(
    { orgs, cameras, users: createUserRepo(store, now), secrets },
    { seed: 1, townships: 2, villagesPerTownship: 1, cameras: 2, center: [118.8, 30.95], hostOf: () => '127.0.0.9' },
  );
  const removed: string[] = [];
  const started: string[] = [];
  let free = opts.freeBytes;
  const engine: RecordingEngine = {
    start: async (key) => void started.push(key),
    stop: async (key) => void started.splice(started.indexOf(key), 1),
    keys: () => [...started],
    state: () => undefined,
    onSegment: () => () => undefined,
    recover: async () => ({ segments: [] as RecordedFile[], repaired: 0, dropped: 0, killed: 0 }),
    remove: async (rel) => void removed.push(rel),
    removeClip: async (rel) => void removed.push(rel),
    clipFiles: async () => [],
    resolve: (rel) => `/rec/${rel}`,
    freeBytes: async () => free,
    exportMp4: async () => ({ path: '/x', bytes: 1, capped: false }),
    discard: async () => undefined,
    close: async () => undefined,
  };
  const base = loadConfig({ profile: 'test', env: {}, overrides: {} }).recording;
  const repo = createRecordingRepo(store);
  const service = createRecordingService({
    store,
    repo,
    cameras,
    orgs,
    secrets,
    audit: createAuditLog(store, now),
    bus: createEventBus(() => undefined),
    clock: { now },
    log: createLogger('error'),
    config: { ...base, quotaGb: opts.quotaGb, minFreeMb: 100, warnPercent: 80 },
    utcOffsetMinutes: 480,
    engine,
  });
  const camera = db.get<{ id: number; org_path: string }>(
    'SELECT id, org_path FROM camera_points ORDER BY id LIMIT 1',
  )!;
  const seg = async (i: number, bytes: number, ageMs = 3_600_000) => {
    const start = Date.now() - ageMs + i * 6_000;
    await repo.addSegment({
      cameraId: camera.id,
      orgPath: camera.org_path,
      startMs: start,
      endMs: start + 6_000,
      bytes,
      path: `c/r/seg_${String(i).padStart(6, '0')}.ts`,
    });
  };
  return { db, repo, service, removed, seg, camera, setFree: (n: number) => (free = n) };
}

describe('retention and quota', () => {
  it('deletes the oldest first down to the quota, keeps what a pending clip holds', async () => {
    const t = await setup({ quotaGb: 1, freeBytes: 100 * GB });
    for (let i = 0; i < 6; i++) await t.seg(i, 0.3 * GB); // 1.8 GB against a 1 GB quota
    // A pending evidence clip over segment 0 holds it.
    const s0 = t.db.get<{ start_ms: number }>('SELECT start_ms FROM recording_segments ORDER BY start_ms LIMIT 1')!;
    t.db.run(
      `INSERT INTO alerts (id, seq, type, level, lon, lat, coord_source, org_unit_id, org_path, source_kind, source_id, title, status, count, first_at, last_at, created_at, updated_at)
       SELECT 1, 1, 'motion', 'blue', 118.8, 30.95, 'wgs84', id, path, 'manual', 'x', 't', 'new', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM org_units LIMIT 1`,
    );
    await t.repo.addClip({
      alertId: 1,
      cameraId: t.camera.id,
      orgPath: t.camera.org_path,
      startMs: s0.start_ms + 1000,
      endMs: s0.start_ms + 3000,
      createdAt: '',
    });
    await t.service.pass();
    expect(t.removed).toEqual(['c/r/seg_000001.ts', 'c/r/seg_000002.ts', 'c/r/seg_000003.ts']);
    expect(await t.repo.totalBytes()).toBeLessThanOrEqual(0.95 * GB);
    expect(t.service.status().state).toBe('warning');
  });

  it('stops cleanly with a reason when nothing can be freed, and when the disk is full', async () => {
    const t = await setup({ quotaGb: 1, freeBytes: 100 * GB });
    await t.service.putPlan(
      { user: { id: 1, username: 'admin', role: 'admin' }, scope: { orgUnitId: 0, path: '/' } } as never,
      null,
      { cameraId: t.camera.id, mode: 'continuous', schedule: [], preRollSeconds: 30, retentionDays: 30, enabled: true },
    );
    await t.service.pass();
    expect(t.service.status()).toMatchObject({ state: 'ok', recording: 1 });
    t.setFree(10 * 1024 * 1024); // 10 MB, below minFreeMb 100
    await t.service.pass();
    expect(t.service.status()).toMatchObject({ state: 'full', recording: 0 });
    expect(t.service.status().reason).toMatch(/disk full/);
    t.setFree(100 * GB);
    await t.service.pass();
    expect(t.service.status()).toMatchObject({ state: 'ok', recording: 1 });
    const audit = t.db.all<{ action: string }>("SELECT action FROM audit_log WHERE action = 'recording.state'");
    expect(audit.length).toBeGreaterThanOrEqual(2);
  });

  it("a plan's retention days expire old segments", async () => {
    const t = await setup({ quotaGb: 100, freeBytes: 100 * GB });
    await t.seg(0, 1000, 3 * 86_400_000);
    await t.seg(1, 1000, 60_000);
    await t.service.putPlan(
      { user: { id: 1, username: 'admin', role: 'admin' }, scope: { orgUnitId: 0, path: '/' } } as never,
      null,
      { cameraId: t.camera.id, mode: 'continuous', schedule: [], preRollSeconds: 30, retentionDays: 2, enabled: true },
    );
    await t.service.pass();
    expect(t.removed).toEqual(['c/r/seg_000000.ts']);
  });
});

describe('pure parts', () => {
  it('spans join touching segments; gaps lie between and at the ends', () => {
    const s = (a: number, b: number) => ({ startMs: a * 1000, endMs: b * 1000 });
    expect(spansOf([s(10, 16), s(16.3, 22), s(40, 46)], 0, 60_000)).toEqual({
      spans: [
        { start: new Date(10_000).toISOString(), end: new Date(22_000).toISOString() },
        { start: new Date(40_000).toISOString(), end: new Date(46_000).toISOString() },
      ],
      gaps: [
        { start: new Date(0).toISOString(), end: new Date(10_000).toISOString() },
        { start: new Date(22_000).toISOString(), end: new Date(40_000).toISOString() },
        { start: new Date(46_000).toISOString(), end: new Date(60_000).toISOString() },
      ],
    });
    expect(spansOf([], 0, 60_000)).toEqual({ spans: [], gaps: [] });
  });
  it('weekly windows in local time', () => {
    // 2026-12-07 is a Monday; 01:30 UTC is 09:30 at UTC+8.
    const mon0930 = Date.parse('2026-12-07T01:30:00Z');
    const w = [{ day: 1, from: '09:00', to: '10:00' }];
    expect(inSchedule(w, mon0930, 480)).toBe(true);
    expect(inSchedule(w, mon0930, 0)).toBe(false);
    expect(inSchedule([{ day: 2, from: '09:00', to: '10:00' }], mon0930, 480)).toBe(false);
  });
  it('the VOD playlist starts at the asked second and marks a new run as a discontinuity', () => {
    const pl = vodPlaylist(
      [
        { id: 1, startMs: 0, endMs: 6000, path: 'c/r1/seg_000000.ts' },
        { id: 2, startMs: 6000, endMs: 12000, path: 'c/r1/seg_000001.ts' },
        { id: 3, startMs: 12100, endMs: 18000, path: 'c/r2/seg_000000.ts' },
      ],
      2500,
    );
    expect(pl.split('\n')).toEqual([
      '#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-TARGETDURATION:6', '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-START:TIME-OFFSET=2.500,PRECISE=YES',
      '#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.000Z', '#EXTINF:6.000,', 's1.ts',
      '#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:06.000Z', '#EXTINF:6.000,', 's2.ts',
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:12.100Z', '#EXTINF:5.900,', 's3.ts',
      '#EXT-X-ENDLIST', '',
    ]); // prettier-ignore
  });
});

describe('evidence clips across migration 16', () => {
  it('keeps every clip, remembers the order made of its alert, and no longer drops the row with the alert', async () => {
    const db = openSqlite(':memory:');
    const now = () => new Date();
    migrate(db, now, 15);
    const t = '2026-01-01T00:00:00.000Z';
    db.run(`INSERT INTO org_units (id, code, name, level, path, created_at) VALUES (1, 'c', 'c', 'county', '/1/', ?)`, [
      t,
    ]);
    for (const id of [1, 2]) {
      db.run(
        `INSERT INTO alerts (id, seq, type, level, lon, lat, coord_source, org_unit_id, org_path, source_kind, source_id, title,
           status, first_at, last_at, created_at, updated_at)
         VALUES (?, ?, 'motion', 'blue', 118.8, 30.95, 'wgs84', 1, '/1/', 'manual', 'x', 't', 'new', ?, ?, ?, ?)`,
        [id, id, t, t, t, t],
      );
      db.run(
        `INSERT INTO recording_clips (id, alert_id, camera_id, org_path, start_ms, end_ms, status, path, bytes, created_at)
         VALUES (?, ?, 7, '/1/', 0, 6000, 'ready', ?, 100, ?)`,
        [10 + id, id, `clips/alert-${id}-cam7.mp4`, t],
      );
    }
    db.run(
      `INSERT INTO work_orders (id, title, description, level, state, alert_id, camera_ids, place_org_unit_id, place_path,
         chain, assignee_org_unit_id, created_by_name, created_at, updated_at)
       VALUES (5, 't', 'd', 'blue', 'assigned', 2, '[]', 1, '/1/', '[1]', 1, 'x', ?, ?)`,
      [t, t],
    );
    migrate(db, now);
    const rows = () =>
      db.all<{ id: number; orderId: number | null }>('SELECT id, order_id AS "orderId" FROM recording_clips');
    expect(rows()).toEqual([
      { id: 11, orderId: null },
      { id: 12, orderId: 5 },
    ]);
    db.run('DELETE FROM alerts WHERE id IN (1, 2)');
    // Rows stay for the pass to delete with their files; the one of alert 1 is now released, the other held.
    expect(rows().length).toBe(2);
    expect((await createRecordingRepo(sqliteStore(db)).releasedClips(10)).map((c) => c.id)).toEqual([11]);
  });
});

import type { SqlDb } from './sqlite.ts';

interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Runs after `sql`, inside the same transaction: for steps that read the schema first. */
  run?: (db: SqlDb) => void;
  /**
   * Rebuilding a table that others reference needs foreign keys off, which
   * SQLite allows only outside a transaction; they are checked before commit.
   */
  foreignKeysOff?: boolean;
  /**
   * The step in PostgreSQL's words, when `sql` is not portable (db/postgres-schema.ts). Migrations up to the
   * baseline reach PostgreSQL through the translated baseline; from then on each needs a portable `sql`
   * (without `run` or `foreignKeysOff`) or this.
   */
  postgres?: string;
  /**
   * A step for PostgreSQL alone (functions and index kinds SQLite has no form for; `sql` is then empty): run
   * after the baseline on a new PostgreSQL database, as the baseline holds only what SQLite's history built,
   * and as this migration's step on an existing one.
   */
  postgresOnly?: string;
}

/**
 * Every table whose integer ids leave the database (URLs, events, tickets,
 * audit rows). Before migration 10 they were `INTEGER PRIMARY KEY`, which
 * hands a deleted highest id to the next row: a deleted point's tickets then
 * played the next point, and a deleted screen's kiosk account was adopted by
 * the next screen (issue 11).
 */
const IDS_LEAVE_THE_DATABASE = [
  'org_units',
  'camera_points',
  'users',
  'audit_log',
  'scan_jobs',
  'discovered_devices',
  'camera_status_events',
  'view_sessions',
  'alert_sources',
  'alerts',
  'alert_history',
  'wall_screens',
  'wall_kiosk_tokens',
  'work_orders',
  'work_order_transitions',
  'work_order_attachments',
  'wall_pushes',
] as const;

/**
 * Rebuilds `table` with `id INTEGER PRIMARY KEY AUTOINCREMENT` (SQLite's
 * never-reuse rowids; PostgreSQL identity columns never reuse either), keeping
 * rows, indexes and triggers. SQLite's own procedure for a changed table
 * definition: create, copy, drop, rename (https://sqlite.org/lang_altertable.html).
 */
function rebuildWithAutoincrement(db: SqlDb, table: string): void {
  const def = db.get<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]);
  if (!def) throw new Error(`migration 10: table ${table} is missing`);
  if (/AUTOINCREMENT/i.test(def.sql)) return;
  const tmp = `${table}__autoinc`;
  const head = new RegExp(`^CREATE TABLE "?${table}"?\\s*\\(`);
  if (!head.test(def.sql) || !/\bid INTEGER PRIMARY KEY\b/.test(def.sql))
    throw new Error(`migration 10: unexpected definition of ${table}`);
  const created = def.sql
    .replace(head, `CREATE TABLE ${tmp} (`)
    .replace(/\bid INTEGER PRIMARY KEY\b/, 'id INTEGER PRIMARY KEY AUTOINCREMENT');
  const extras = db
    .all<{ sql: string }>(
      "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
      [table],
    )
    .map((r) => r.sql);
  db.exec(created);
  db.exec(`INSERT INTO ${tmp} SELECT * FROM ${table}`);
  db.exec(`DROP TABLE ${table}`);
  db.exec(`ALTER TABLE ${tmp} RENAME TO ${table}`);
  for (const sql of extras) db.exec(sql);
}

/**
 * Schema history. Append only: a released migration is never edited.
 * Types and constraints are kept to what PostgreSQL also accepts
 * (TEXT timestamps in ISO-8601 UTC, INTEGER booleans 0/1).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry, accounts, audit',
    sql: `
CREATE TABLE org_units (
  id INTEGER PRIMARY KEY,
  parent_id INTEGER REFERENCES org_units(id),
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('county', 'township', 'village')),
  path TEXT NOT NULL,
  boundary TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX org_units_path ON org_units(path);
CREATE INDEX org_units_parent ON org_units(parent_id);

CREATE TABLE networks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_en TEXT NOT NULL,
  builtin INTEGER NOT NULL
);

CREATE TABLE camera_points (
  id INTEGER PRIMARY KEY,
  code TEXT UNIQUE,
  name TEXT NOT NULL,
  network_id TEXT NOT NULL REFERENCES networks(id),
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  org_path TEXT NOT NULL,
  lon DOUBLE PRECISION NOT NULL CHECK (lon BETWEEN -180 AND 180),
  lat DOUBLE PRECISION NOT NULL CHECK (lat BETWEEN -90 AND 90),
  coord_source TEXT NOT NULL CHECK (coord_source IN ('wgs84', 'gcj02', 'bd09')),
  address TEXT,
  direction DOUBLE PRECISION,
  fov DOUBLE PRECISION,
  onvif_url TEXT,
  main_stream_uri TEXT,
  sub_stream_uri TEXT,
  credentials_enc TEXT,
  ptz INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'online', 'offline', 'degraded')),
  status_reason TEXT,
  last_seen_at TEXT,
  search_text TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
-- Serves jurisdiction ranges and covers text search with its usual filters,
-- so a search scans this narrow index and touches only the matching rows.
CREATE INDEX camera_points_org_text ON camera_points(org_path, search_text, network_id, status, ptz);
CREATE INDEX camera_points_network ON camera_points(network_id, org_path);
CREATE INDEX camera_points_status ON camera_points(status, org_path);
CREATE INDEX camera_points_lat_lon ON camera_points(lat, lon);

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'county_officer', 'township_operator', 'technician', 'viewer')),
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  user_id INTEGER,
  username TEXT,
  action TEXT NOT NULL,
  target_type TEXT,
  target_id TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
  ip TEXT,
  detail TEXT
);
CREATE INDEX audit_log_action ON audit_log(action, id);
`,
  },
  {
    version: 2,
    name: 'discovery, device identity, health history',
    sql: `
ALTER TABLE camera_points ADD COLUMN manufacturer TEXT;
ALTER TABLE camera_points ADD COLUMN model TEXT;
ALTER TABLE camera_points ADD COLUMN serial TEXT;
ALTER TABLE camera_points ADD COLUMN mac TEXT;
ALTER TABLE camera_points ADD COLUMN last_checked_at TEXT;
CREATE INDEX camera_points_serial ON camera_points(serial);
CREATE INDEX camera_points_mac ON camera_points(mac);
CREATE INDEX camera_points_onvif ON camera_points(onvif_url);

CREATE TABLE scan_jobs (
  id INTEGER PRIMARY KEY,
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  org_path TEXT NOT NULL,
  created_by INTEGER REFERENCES users(id),
  mode TEXT NOT NULL CHECK (mode IN ('unicast', 'multicast', 'manual')),
  spec TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'cancelled', 'failed')),
  total INTEGER NOT NULL DEFAULT 0,
  probed INTEGER NOT NULL DEFAULT 0,
  found INTEGER NOT NULL DEFAULT 0,
  interrogated INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX scan_jobs_org ON scan_jobs(org_path, id);

CREATE TABLE discovered_devices (
  id INTEGER PRIMARY KEY,
  scan_id INTEGER NOT NULL REFERENCES scan_jobs(id) ON DELETE CASCADE,
  endpoint TEXT,
  xaddr TEXT NOT NULL,
  host TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('new', 'registered', 'auth_failed', 'unreachable', 'not_onvif', 'error', 'confirmed')),
  reason TEXT,
  manufacturer TEXT,
  model TEXT,
  firmware TEXT,
  serial TEXT,
  mac TEXT,
  profiles TEXT,
  main_stream_uri TEXT,
  sub_stream_uri TEXT,
  snapshot_uri TEXT,
  ptz INTEGER NOT NULL DEFAULT 0,
  clock_offset_ms INTEGER,
  credentials_enc TEXT,
  camera_id INTEGER REFERENCES camera_points(id) ON DELETE SET NULL,
  found_at TEXT NOT NULL
);
CREATE INDEX discovered_devices_scan ON discovered_devices(scan_id, id);

CREATE TABLE camera_status_events (
  id INTEGER PRIMARY KEY,
  camera_id INTEGER NOT NULL REFERENCES camera_points(id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  reason TEXT
);
CREATE INDEX camera_status_events_camera ON camera_status_events(camera_id, id);
`,
  },
  {
    version: 3,
    name: 'viewing sessions',
    sql: `
CREATE TABLE view_sessions (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  camera_id INTEGER NOT NULL REFERENCES camera_points(id) ON DELETE CASCADE,
  quality TEXT NOT NULL CHECK (quality IN ('main', 'sub')),
  ip TEXT,
  started_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  ended_at TEXT
);
CREATE INDEX view_sessions_open ON view_sessions(ended_at, user_id, camera_id);
CREATE INDEX view_sessions_camera ON view_sessions(camera_id, id);
`,
  },
  {
    version: 4,
    name: 'rtmp ingest publish keys',
    // Only the SHA-256 of a key is kept: the key itself is shown once, when issued.
    sql: `
CREATE TABLE ingest_keys (
  camera_id INTEGER PRIMARY KEY REFERENCES camera_points(id) ON DELETE CASCADE,
  key_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by INTEGER REFERENCES users(id)
);
`,
  },
  {
    version: 5,
    name: 'alerts',
    // Keys of alert sources are kept as SHA-256 only. seq is the change cursor
    // clients replay from; it grows on every change, not only on insert.
    sql: `
CREATE TABLE alert_sources (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  org_path TEXT NOT NULL,
  rate_limit_per_min INTEGER NOT NULL,
  created_by INTEGER REFERENCES users(id),
  created_at TEXT NOT NULL
);

CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL UNIQUE,
  type TEXT NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('blue', 'yellow', 'orange', 'red')),
  lon REAL NOT NULL,
  lat REAL NOT NULL,
  coord_source TEXT NOT NULL CHECK (coord_source IN ('wgs84', 'gcj02', 'bd09')),
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  org_path TEXT NOT NULL,
  source_kind TEXT NOT NULL CHECK (source_kind IN ('device_key', 'onvif_event', 'health', 'manual')),
  source_id TEXT NOT NULL,
  camera_id INTEGER REFERENCES camera_points(id) ON DELETE SET NULL,
  linked_camera_ids TEXT NOT NULL DEFAULT '[]',
  title TEXT NOT NULL,
  description TEXT,
  status TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'false_alarm', 'dispatched', 'closed')),
  auto_closed INTEGER NOT NULL DEFAULT 0,
  count INTEGER NOT NULL DEFAULT 1,
  first_at TEXT NOT NULL,
  last_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX alerts_storm ON alerts(source_kind, source_id, type, camera_id, last_at);
CREATE INDEX alerts_org ON alerts(org_path, seq);

CREATE TABLE alert_history (
  id INTEGER PRIMARY KEY,
  alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT
);
CREATE INDEX alert_history_alert ON alert_history(alert_id, id);
`,
  },
  {
    version: 6,
    name: 'alert_event_cameras',
    // Points whose ONVIF events (motion, tamper) become alerts. A separate
    // table owned by alerts/, so the camera registry does not know about it.
    sql: `
CREATE TABLE alert_event_cameras (
  camera_id INTEGER PRIMARY KEY REFERENCES camera_points(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL
);
`,
  },
  {
    version: 7,
    name: 'alert snapshots, preset places',
    // A JPEG taken when an alert involving a camera is stored, and the geo
    // position a technician registered for each PTZ preset. Both owned by alerts/.
    sql: `
CREATE TABLE alert_snapshots (
  alert_id INTEGER PRIMARY KEY REFERENCES alerts(id) ON DELETE CASCADE,
  jpeg BLOB NOT NULL,
  taken_at TEXT NOT NULL,
  camera_id INTEGER
);
CREATE TABLE camera_preset_places (
  camera_id INTEGER NOT NULL REFERENCES camera_points(id) ON DELETE CASCADE,
  preset_token TEXT NOT NULL,
  name TEXT NOT NULL,
  lon REAL NOT NULL,
  lat REAL NOT NULL,
  PRIMARY KEY (camera_id, preset_token)
);
`,
  },
  {
    version: 8,
    name: 'wall screens',
    // 大屏: one physical screen of a video wall and its saved layout, owned by
    // an org unit; kiosk tokens sign an unattended screen in (hash only). Owned by wall/.
    sql: `
CREATE TABLE wall_screens (
  id INTEGER PRIMARY KEY,
  org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  org_path TEXT NOT NULL,
  name TEXT NOT NULL,
  layout_json TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  updated_at TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX wall_screens_path ON wall_screens(org_path);
CREATE TABLE wall_kiosk_tokens (
  id INTEGER PRIMARY KEY,
  screen_id INTEGER NOT NULL REFERENCES wall_screens(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_by INTEGER,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX wall_kiosk_tokens_screen ON wall_kiosk_tokens(screen_id);
`,
  },
  {
    version: 9,
    name: 'work orders, wall pushes',
    // Owned by dispatch/. Version 8 belongs to the wall screens (wall/).
    // next_check_at is the scheduler's index: open orders only, so the
    // deadline scan reads exactly the orders that came due.
    sql: `
CREATE TABLE work_orders (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  level TEXT NOT NULL,
  state TEXT NOT NULL,
  alert_id INTEGER UNIQUE REFERENCES alerts(id) ON DELETE SET NULL,
  lon REAL,
  lat REAL,
  camera_ids TEXT NOT NULL,
  place_org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  place_path TEXT NOT NULL,
  chain TEXT NOT NULL,
  assignee_org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  sign_deadline TEXT,
  handle_deadline TEXT,
  next_check_at TEXT,
  supervise_count INTEGER NOT NULL DEFAULT 0,
  supervise_total INTEGER NOT NULL DEFAULT 0,
  escalations INTEGER NOT NULL DEFAULT 0,
  created_by INTEGER,
  created_by_name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  closed_at TEXT,
  closed_on_time INTEGER,
  handle_seconds INTEGER,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX work_orders_place_created ON work_orders(place_path, created_at);
CREATE INDEX work_orders_place_closed ON work_orders(place_path, closed_at);
CREATE INDEX work_orders_due ON work_orders(next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX work_orders_assignee ON work_orders(assignee_org_unit_id, state);
CREATE TABLE work_order_transitions (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES work_orders(id) ON DELETE CASCADE,
  action TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  actor_user_id INTEGER,
  actor_name TEXT NOT NULL,
  actor_org_unit_id INTEGER,
  assignee_org_unit_id INTEGER,
  note TEXT,
  at TEXT NOT NULL
);
CREATE INDEX work_order_transitions_order ON work_order_transitions(order_id, id);
CREATE TABLE work_order_attachments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES work_orders(id) ON DELETE CASCADE,
  transition_id INTEGER REFERENCES work_order_transitions(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  camera_id INTEGER,
  content_type TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL,
  uploaded_by INTEGER,
  taken_at TEXT NOT NULL
);
CREATE INDEX work_order_attachments_order ON work_order_attachments(order_id, id);
CREATE TABLE wall_pushes (
  id INTEGER PRIMARY KEY,
  from_user_id INTEGER NOT NULL,
  from_org_unit_id INTEGER NOT NULL,
  target_org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
  target_path TEXT NOT NULL,
  screen_id INTEGER,
  camera_ids TEXT NOT NULL,
  layout_json TEXT,
  order_id INTEGER REFERENCES work_orders(id) ON DELETE SET NULL,
  note TEXT,
  at TEXT NOT NULL
);
CREATE INDEX wall_pushes_target ON wall_pushes(target_path, id);
`,
  },
  {
    version: 10,
    name: 'ids never reused; kiosk accounts tied to their screen',
    foreignKeysOff: true,
    // A kiosk account belongs to exactly one screen by this column, never by its name.
    sql: `
ALTER TABLE users ADD COLUMN kiosk_screen_id INTEGER REFERENCES wall_screens(id) ON DELETE SET NULL;
`,
    run(db) {
      for (const table of IDS_LEAVE_THE_DATABASE) rebuildWithAutoincrement(db, table);
      db.exec('CREATE UNIQUE INDEX users_kiosk_screen ON users(kiosk_screen_id) WHERE kiosk_screen_id IS NOT NULL');
      // Adopt an old kiosk account only where it is certainly the screen's own:
      // named for it, in the screen's unit, and holding tokens of that screen
      // alone. Anything else (an adopted account, a look-alike name) is
      // disabled, its tokens revoked and its sessions ended.
      const kiosks = db.all<{ id: number; username: string; org_unit_id: number }>(
        "SELECT id, username, org_unit_id FROM users WHERE password_hash = '!kiosk' OR id IN (SELECT user_id FROM wall_kiosk_tokens)",
      );
      for (const u of kiosks) {
        const screens = db.all<{ screen_id: number }>(
          'SELECT DISTINCT screen_id FROM wall_kiosk_tokens WHERE user_id = ?',
          [u.id],
        );
        const screen =
          screens.length === 1
            ? db.get<{ id: number; org_unit_id: number }>('SELECT id, org_unit_id FROM wall_screens WHERE id = ?', [
                screens[0]!.screen_id,
              ])
            : undefined;
        const own = screen && u.username === `kiosk-screen-${screen.id}` && screen.org_unit_id === u.org_unit_id;
        if (own && screen) {
          db.run('UPDATE users SET kiosk_screen_id = ? WHERE id = ?', [screen.id, u.id]);
        } else {
          db.run("UPDATE users SET disabled = 1, password_hash = '!kiosk' WHERE id = ?", [u.id]);
          db.run(
            "UPDATE wall_kiosk_tokens SET revoked_at = COALESCE(revoked_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) WHERE user_id = ?",
            [u.id],
          );
          db.run('DELETE FROM sessions WHERE user_id = ?', [u.id]);
        }
      }
    },
  },
  {
    version: 11,
    name: 'alert_previous',
    // A repeat after its alert was closed is a new alert that names the old
    // one, instead of reopening it (issue 11).
    sql: `ALTER TABLE alerts ADD COLUMN previous_alert_id INTEGER REFERENCES alerts(id);`,
  },
  {
    version: 12,
    name: 'field_robustness',
    // Issue 12: the RTSP transport of a point ('auto' tries TCP, then UDP)
    // and the one that delivered video last; the device's WS-Discovery
    // endpoint reference (identity before MAC and serial); the stream and
    // snapshot URIs a device reported before they were rebased to the address
    // that answered; imports written in chunks, each row naming its import so
    // that a failure or a restart mid-import removes all of it.
    sql: `
ALTER TABLE camera_points ADD COLUMN rtsp_transport TEXT NOT NULL DEFAULT 'auto' CHECK (rtsp_transport IN ('auto', 'tcp', 'udp'));
ALTER TABLE camera_points ADD COLUMN rtsp_transport_seen TEXT CHECK (rtsp_transport_seen IN ('tcp', 'udp'));
ALTER TABLE camera_points ADD COLUMN device_endpoint TEXT;
ALTER TABLE camera_points ADD COLUMN import_id INTEGER;
CREATE INDEX camera_points_device_endpoint ON camera_points (device_endpoint) WHERE device_endpoint IS NOT NULL;
CREATE INDEX camera_points_import ON camera_points (import_id) WHERE import_id IS NOT NULL;
ALTER TABLE discovered_devices ADD COLUMN reported_uris TEXT;
CREATE TABLE camera_imports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  status TEXT NOT NULL CHECK (status IN ('writing', 'done', 'failed')),
  created_by INTEGER,
  rows INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT
);`,
  },
  {
    version: 13,
    name: 'quality',
    // 视频质量诊断 and 完好率 (issue 16): each diagnosis of a point (kept by
    // age, with its org path and network so scope and reports survive the
    // point; no foreign key for the same reason, and ids are never reused),
    // thumbnails apart, each point's current quality and reference picture,
    // sweeps (resumable: after_id), and one row per day, org unit and
    // network of counts for the trends.
    sql: `
CREATE TABLE quality_sweeps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_unit_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  network_id TEXT,
  trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual')),
  status TEXT NOT NULL CHECK (status IN ('running', 'paused', 'done', 'cancelled', 'failed')),
  local_date TEXT NOT NULL,
  total INTEGER NOT NULL DEFAULT 0,
  checked INTEGER NOT NULL DEFAULT 0,
  good INTEGER NOT NULL DEFAULT 0,
  faulty INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  after_id INTEGER NOT NULL DEFAULT 0,
  cpu_ms INTEGER NOT NULL DEFAULT 0,
  requested_by INTEGER,
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX quality_sweeps_date ON quality_sweeps (local_date, trigger);
CREATE TABLE quality_checks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  camera_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  network_id TEXT NOT NULL,
  sweep_id INTEGER,
  at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('good', 'faulty', 'failed')),
  kinds TEXT NOT NULL,
  reason TEXT,
  measures TEXT,
  ms INTEGER NOT NULL
);
CREATE INDEX quality_checks_camera ON quality_checks (camera_id, id);
CREATE INDEX quality_checks_path_at ON quality_checks (org_path, at);
CREATE INDEX quality_checks_at ON quality_checks (at);
CREATE TABLE quality_thumbnails (
  check_id INTEGER PRIMARY KEY REFERENCES quality_checks(id) ON DELETE CASCADE,
  jpeg BLOB NOT NULL
);
CREATE TABLE quality_state (
  camera_id INTEGER PRIMARY KEY REFERENCES camera_points(id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN ('good', 'faulty', 'failed')),
  kinds TEXT NOT NULL,
  reason TEXT,
  checked_at TEXT NOT NULL,
  last_check_id INTEGER NOT NULL,
  last_signature TEXT
);
CREATE TABLE quality_references (
  camera_id INTEGER PRIMARY KEY REFERENCES camera_points(id) ON DELETE CASCADE,
  signature TEXT NOT NULL,
  check_id INTEGER,
  jpeg BLOB,
  created_at TEXT NOT NULL,
  created_by TEXT
);
CREATE TABLE quality_daily (
  day TEXT NOT NULL,
  org_unit_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  network_id TEXT NOT NULL,
  total INTEGER NOT NULL,
  online INTEGER NOT NULL,
  intact INTEGER NOT NULL,
  faults TEXT NOT NULL,
  PRIMARY KEY (day, org_unit_id, network_id)
);
CREATE INDEX quality_daily_path ON quality_daily (org_path, day);`,
  },
  {
    version: 14,
    name: 'recording: record plans, the segment index, alert evidence clips (issue 14)',
    sql: `
CREATE TABLE record_plans (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  camera_id INTEGER REFERENCES camera_points(id) ON DELETE CASCADE,
  org_unit_id INTEGER REFERENCES org_units(id) ON DELETE CASCADE,
  org_path TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('continuous', 'schedule', 'alert')),
  schedule TEXT NOT NULL DEFAULT '[]',
  pre_roll_seconds INTEGER NOT NULL DEFAULT 30,
  retention_days INTEGER NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK ((camera_id IS NULL) <> (org_unit_id IS NULL))
);
CREATE UNIQUE INDEX record_plans_camera ON record_plans (camera_id) WHERE camera_id IS NOT NULL;
CREATE UNIQUE INDEX record_plans_org ON record_plans (org_unit_id) WHERE org_unit_id IS NOT NULL;
CREATE INDEX record_plans_path ON record_plans (org_path);
CREATE TABLE recording_segments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  camera_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  path TEXT NOT NULL UNIQUE
);
CREATE INDEX recording_segments_camera ON recording_segments (camera_id, start_ms);
CREATE INDEX recording_segments_start ON recording_segments (start_ms);
CREATE TABLE recording_clips (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  camera_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
  reason TEXT,
  path TEXT,
  bytes INTEGER,
  created_at TEXT NOT NULL,
  UNIQUE (alert_id, camera_id)
);
CREATE INDEX recording_clips_pending ON recording_clips (status, end_ms);`,
  },
  {
    version: 15,
    name: "map point feed: a covering index for the scoped columns the map's feed reads (issue 15)",
    // GET /walls/points.bin reads (id, lon, lat, network, status) of a jurisdiction: from this index alone,
    // without a table lookup per row (200,000 points: ~3x faster than through camera_points_org_text).
    sql: `CREATE INDEX camera_points_feed ON camera_points (org_path, id, lon, lat, network_id, status);`,
  },
  {
    version: 16,
    name: 'evidence clips kept while their alert or work order lives, then deleted with their file (issue 14)',
    // The clip row no longer cascades with its alert: a cascade dropped the row and left its file on disk, and
    // dropped the evidence of a work order that outlives its alert. The recording pass deletes row and file once
    // neither the alert nor the order (order_id, remembered while the alert still named it) exists.
    sql: `
CREATE TABLE recording_clips_v16 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL,
  order_id INTEGER,
  camera_id INTEGER NOT NULL,
  org_path TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
  reason TEXT,
  path TEXT,
  bytes INTEGER,
  created_at TEXT NOT NULL,
  UNIQUE (alert_id, camera_id)
);
INSERT INTO recording_clips_v16 (id, alert_id, order_id, camera_id, org_path, start_ms, end_ms, status, reason, path,
  bytes, created_at)
SELECT c.id, c.alert_id, (SELECT w.id FROM work_orders w WHERE w.alert_id = c.alert_id), c.camera_id, c.org_path,
  c.start_ms, c.end_ms, c.status, c.reason, c.path, c.bytes, c.created_at
FROM recording_clips c;
DROP TABLE recording_clips;
ALTER TABLE recording_clips_v16 RENAME TO recording_clips;
CREATE INDEX recording_clips_pending ON recording_clips (status, end_ms);
CREATE INDEX recording_clips_order ON recording_clips (order_id);`,
  },
  {
    version: 17,
    name: 'alert cursor from a database counter, never MAX(seq) + 1 (issue 13)',
    // Two instances on one database read MAX(seq) + 1 at once and wrote the same seq (UNIQUE failed, HTTP 500).
    // The counter row is bumped inside the writing transaction (db/counters.ts), so values are unique and
    // committed in order. It starts where the alerts are.
    sql: `
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) SELECT 'alerts.seq', COALESCE(MAX(seq), 0) FROM alerts;`,
  },
  {
    version: 18,
    name: 'cluster leases: periodic passes run on one instance of several (issue 13)',
    // expires_at in epoch milliseconds of the holder's clock (BIGINT: PostgreSQL's INTEGER is 32 bits; SQLite
    // reads it as INTEGER). cluster/lease.ts takes and renews with one upsert.
    sql: `CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL);`,
  },
  {
    version: 19,
    name: 'PostgreSQL: an index of character pairs for the registry text search (issue 13)',
    // SQLite scans the narrow (org_path, search_text, …) index, 50,000 rows in a few ms. PostgreSQL tested
    // strpos on every row of the table (~25 ms at 50,000 points: registry.search.p95.pg 34.6 ms against 20).
    // A trigram index (pg_trgm) cannot serve the 2-character terms Chinese names are searched by (路口, 球机).
    // Every pair of neighbouring characters of the search text is kept instead, as an integer (two code
    // points folded into 31 bits; pairs that fold alike only cost a row the substring test then drops), in a
    // generated column with a GIN index: a term of two or more characters selects the rows holding all its
    // pairs, and strpos confirms each (cameras/repo.ts). One-character terms still scan.
    // A stored column, not an index over the function: the planner then never calls the function once per
    // row (a scan for a term every point holds, a code prefix, took 0.4 s), and it has the column's statistics.
    sql: '',
    postgresOnly: `
CREATE OR REPLACE FUNCTION ccc_char_pairs(t text) RETURNS int[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  c text[] := string_to_array(t, NULL);
  pairs int[] := '{}';
  prev int;
  cur int;
BEGIN
  IF cardinality(c) < 2 THEN
    RETURN pairs;
  END IF;
  prev := ascii(c[1]) % 32768;
  FOR i IN 2 .. cardinality(c) LOOP
    cur := ascii(c[i]);
    pairs := pairs || (prev * 65536 + cur % 65536);
    prev := cur % 32768;
  END LOOP;
  RETURN pairs;
END $$;
ALTER TABLE camera_points ADD COLUMN IF NOT EXISTS search_pairs int[] GENERATED ALWAYS AS (ccc_char_pairs(search_text)) STORED;
CREATE INDEX IF NOT EXISTS camera_points_search_pairs ON camera_points USING gin (search_pairs);`,
  },
  {
    version: 20,
    name: 'imports name their writer and beat while they write: only an abandoned one is removed (issue 13)',
    // A starting instance removed every import still 'writing', another live instance's too (on a shared
    // PostgreSQL): that import then finished as done without the rows removed under it. And an import whose
    // clean-up failed (the database away) stayed until a restart. heartbeat_at: epoch ms of the writer's clock,
    // renewed by every chunk it writes (cameras/service.ts, reapImports).
    sql: `
ALTER TABLE camera_imports ADD COLUMN writer TEXT;
ALTER TABLE camera_imports ADD COLUMN heartbeat_at BIGINT;`,
  },
  {
    version: 21,
    name: "a version of the camera points that every change of the map feed's points bumps (issue 15)",
    // The wall's point feed is kept built while this version stands (wall/feed-cache.ts): every insert, delete
    // and move (a position, network or unit that differs; statuses are read for every answer) bumps it, in the writing transaction (rolled back with it). SQLite
    // has row triggers only; its writes are one at a time anyway. PostgreSQL gets the table (its baseline is
    // SQLite's tables) but no triggers: a row every writer updated would serialise concurrent writers till
    // their commits, so the feed is read each time there.
    sql: `
CREATE TABLE camera_feed_version (one INTEGER PRIMARY KEY CHECK (one = 1), v BIGINT NOT NULL);
INSERT INTO camera_feed_version (one, v) VALUES (1, 0);
CREATE TRIGGER camera_feed_insert AFTER INSERT ON camera_points
BEGIN UPDATE camera_feed_version SET v = v + 1 WHERE one = 1; END;
CREATE TRIGGER camera_feed_delete AFTER DELETE ON camera_points
BEGIN UPDATE camera_feed_version SET v = v + 1 WHERE one = 1; END;
CREATE TRIGGER camera_feed_update AFTER UPDATE OF id, lon, lat, network_id, org_path ON camera_points
WHEN OLD.id IS NOT NEW.id OR OLD.lon IS NOT NEW.lon OR OLD.lat IS NOT NEW.lat OR OLD.network_id IS NOT NEW.network_id
  OR OLD.org_path IS NOT NEW.org_path
BEGIN UPDATE camera_feed_version SET v = v + 1 WHERE one = 1; END;`,
    postgres: `
CREATE TABLE camera_feed_version (one BIGINT PRIMARY KEY CHECK (one = 1), v BIGINT NOT NULL);
INSERT INTO camera_feed_version (one, v) VALUES (1, 0);`,
  },
];

export const LATEST_SCHEMA_VERSION = Math.max(0, ...MIGRATIONS.map((m) => m.version));

/** Applies pending migrations, each in its own transaction; returns how many ran. */
export function migrate(db: SqlDb, now: () => Date, upTo = Infinity): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const done = new Set(db.all<{ version: number }>('SELECT version FROM schema_migrations').map((r) => r.version));
  let ran = 0;
  for (const m of MIGRATIONS) {
    if (done.has(m.version) || m.version > upTo) continue;
    if (m.foreignKeysOff) db.exec('PRAGMA foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        m.run?.(db);
        if (m.foreignKeysOff) {
          const broken = db.all('PRAGMA foreign_key_check');
          if (broken.length) throw new Error(`migration ${m.version}: ${broken.length} foreign key violations`);
        }
        db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          m.version,
          m.name,
          now().toISOString(),
        ]);
      });
    } finally {
      if (m.foreignKeysOff) db.exec('PRAGMA foreign_keys = ON');
    }
    ran++;
  }
  const newest = Math.max(
    0,
    ...db.all<{ version: number }>('SELECT version FROM schema_migrations').map((r) => r.version),
  );
  if (newest > LATEST_SCHEMA_VERSION) {
    throw new Error(`database schema ${newest} is newer than this build (${LATEST_SCHEMA_VERSION}); refusing to start`);
  }
  return ran;
}

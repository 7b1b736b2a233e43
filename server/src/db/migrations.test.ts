import { describe, expect, it } from 'vitest';
import { migrate } from './migrations.ts';
import { openSqlite, type SqlDb } from './sqlite.ts';

const now = () => new Date('2026-12-01T00:00:00Z');

/** A database as main left it before migration 10, with a kiosk account adopted through a reused id. */
function before10(): SqlDb {
  const db = openSqlite(':memory:');
  migrate(db, now, 9);
  const t = now().toISOString();
  db.exec(`
INSERT INTO org_units (id, parent_id, code, name, level, path, created_at) VALUES
  (1, NULL, '3499', '示范县', 'county', '/1/', '${t}'),
  (2, 1, '349901', '城关镇', 'township', '/1/2/', '${t}'),
  (3, 1, '349902', '东湖街道', 'township', '/1/3/', '${t}');
INSERT INTO users (id, username, display_name, password_hash, role, org_unit_id, created_at) VALUES
  (1, 'admin', 'a', 'x', 'admin', 1, '${t}'),
  (2, 'kiosk-screen-1', '大屏 县', '!kiosk', 'viewer', 1, '${t}'),
  (3, 'kiosk-screen-2', '大屏 城关', '!kiosk', 'viewer', 2, '${t}');
INSERT INTO wall_screens (id, org_unit_id, org_path, name, layout_json, version, created_at, updated_at) VALUES
  (1, 2, '/1/2/', '城关镇屏 (got the county''s deleted id 1)', '{}', 1, '${t}', '${t}'),
  (2, 2, '/1/2/', '城关镇屏二', '{}', 1, '${t}', '${t}');
INSERT INTO wall_kiosk_tokens (screen_id, token_hash, user_id, created_by, created_at) VALUES
  (1, 'h1', 2, 1, '${t}'),
  (2, 'h2', 3, 1, '${t}');
INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES
  ('s-adopted', 2, '${t}', '2027-01-01T00:00:00Z'),
  ('s-own', 3, '${t}', '2027-01-01T00:00:00Z');
`);
  return db;
}

describe('migration 10', () => {
  it('keeps every row and reference, and never hands a deleted highest id out again', () => {
    const db = before10();
    migrate(db, now);
    expect(db.get<{ n: number }>('SELECT COUNT(*) AS n FROM org_units')?.n).toBe(3);
    expect(db.all('PRAGMA foreign_key_check')).toEqual([]);
    expect(db.get<{ n: number }>('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
    db.run('DELETE FROM org_units WHERE id = 3');
    const { lastInsertRowid } = db.run(
      "INSERT INTO org_units (parent_id, code, name, level, path, created_at) VALUES (1, '349903', 'x', 'township', '/1/x/', 'x')",
    );
    expect(lastInsertRowid).toBe(4);
    // Indexes came back with their tables.
    const idx = db.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'org_units'",
    );
    expect(idx.map((i) => i.name)).toContain('org_units_path');
  });

  it('ties a kiosk account to its screen only where it is certainly the screen’s own, and disables the rest', () => {
    const db = before10();
    migrate(db, now);
    const users = db.all<{ id: number; disabled: number; kiosk_screen_id: number | null }>(
      'SELECT id, disabled, kiosk_screen_id FROM users ORDER BY id',
    );
    // User 2 is named for screen 1 but sits in the county while screen 1 is in 城关镇: adopted, so disabled.
    expect(users).toEqual([
      { id: 1, disabled: 0, kiosk_screen_id: null },
      { id: 2, disabled: 1, kiosk_screen_id: null },
      { id: 3, disabled: 0, kiosk_screen_id: 2 },
    ]);
    expect(db.all<{ token_hash: string }>('SELECT token_hash FROM sessions').map((s) => s.token_hash)).toEqual([
      's-own',
    ]);
    expect(
      db.get<{ revoked_at: string | null }>("SELECT revoked_at FROM wall_kiosk_tokens WHERE token_hash = 'h1'")
        ?.revoked_at,
    ).not.toBeNull();
  });
});

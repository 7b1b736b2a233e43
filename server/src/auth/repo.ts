import type { Role } from '../api/contract.ts';
import type { SqlDb } from '../db/sqlite.ts';

export interface User {
  id: number;
  username: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  orgUnitId: number;
  disabled: boolean;
  createdAt: string;
}

export interface UserRepo {
  byUsername(username: string): User | undefined;
  byId(id: number): User | undefined;
  list(): User[];
  insert(u: Omit<User, 'id' | 'createdAt' | 'disabled'>): User;
  count(): number;
}

export interface SessionRecord {
  userId: number;
  expiresAt: string;
}

export interface SessionRepo {
  create(tokenHash: string, userId: number, expiresAt: Date, ip: string | null, userAgent: string | null): void;
  find(tokenHash: string): SessionRecord | undefined;
  delete(tokenHash: string): void;
  deleteExpired(): number;
}

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  password_hash: string;
  role: Role;
  org_unit_id: number;
  disabled: number;
  created_at: string;
}

const fromRow = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  passwordHash: r.password_hash,
  role: r.role,
  orgUnitId: r.org_unit_id,
  disabled: r.disabled === 1,
  createdAt: r.created_at,
});

const USER_COLS = 'id, username, display_name, password_hash, role, org_unit_id, disabled, created_at';

export function createUserRepo(db: SqlDb, now: () => Date): UserRepo {
  const byId = (id: number) => {
    const r = db.get<UserRow>(`SELECT ${USER_COLS} FROM users WHERE id = ?`, [id]);
    return r ? fromRow(r) : undefined;
  };
  return {
    byId,
    byUsername(username) {
      const r = db.get<UserRow>(`SELECT ${USER_COLS} FROM users WHERE username = ?`, [username]);
      return r ? fromRow(r) : undefined;
    },
    list: () => db.all<UserRow>(`SELECT ${USER_COLS} FROM users ORDER BY id`).map(fromRow),
    insert(u) {
      const { lastInsertRowid } = db.run(
        'INSERT INTO users (username, display_name, password_hash, role, org_unit_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [u.username, u.displayName, u.passwordHash, u.role, u.orgUnitId, now().toISOString()],
      );
      const created = byId(lastInsertRowid);
      if (!created) throw new Error('user vanished after insert');
      return created;
    },
    count: () => db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users')?.n ?? 0,
  };
}

export function createSessionRepo(db: SqlDb, now: () => Date): SessionRepo {
  return {
    create(tokenHash, userId, expiresAt, ip, userAgent) {
      db.run(
        'INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)',
        [tokenHash, userId, now().toISOString(), expiresAt.toISOString(), ip, userAgent],
      );
    },
    find(tokenHash) {
      const r = db.get<{ user_id: number; expires_at: string }>(
        'SELECT user_id, expires_at FROM sessions WHERE token_hash = ?',
        [tokenHash],
      );
      return r ? { userId: r.user_id, expiresAt: r.expires_at } : undefined;
    },
    delete(tokenHash) {
      db.run('DELETE FROM sessions WHERE token_hash = ?', [tokenHash]);
    },
    deleteExpired: () => db.run('DELETE FROM sessions WHERE expires_at < ?', [now().toISOString()]).changes,
  };
}

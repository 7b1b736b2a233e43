import type { Role } from '../api/contract.ts';
import type { Store } from '../db/store.ts';

export interface User {
  id: number;
  username: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  orgUnitId: number;
  disabled: boolean;
  /** Set only on a wall screen's kiosk account: the one screen it belongs to. */
  kioskScreenId: number | null;
  createdAt: string;
}

/** What an admin may change on an account (PATCH /users/:id). */
export interface UserPatch {
  displayName?: string;
  passwordHash?: string;
  role?: Role;
  orgUnitId?: number;
  disabled?: boolean;
}

export interface UserRepo {
  byUsername(username: string): Promise<User | undefined>;
  byId(id: number): Promise<User | undefined>;
  list(): Promise<User[]>;
  insert(u: Omit<User, 'id' | 'createdAt' | 'disabled' | 'kioskScreenId'>): Promise<User>;
  /** The kiosk account of a screen, found by its column (never by its name). */
  byKioskScreen(screenId: number): Promise<User | undefined>;
  /** Creates the kiosk account of a screen: view only, no password, in the screen's unit. */
  insertKiosk(screenId: number, displayName: string, orgUnitId: number): Promise<User>;
  update(id: number, patch: UserPatch): Promise<User | undefined>;
  count(): Promise<number>;
}

export interface SessionRecord {
  userId: number;
  expiresAt: string;
}

export interface SessionRepo {
  create(
    tokenHash: string,
    userId: number,
    expiresAt: Date,
    ip: string | null,
    userAgent: string | null,
  ): Promise<void>;
  find(tokenHash: string): Promise<SessionRecord | undefined>;
  /** True when a session was deleted. */
  delete(tokenHash: string): Promise<boolean>;
  /** Deletes every session of a user; returns their token hashes. */
  deleteForUser(userId: number): Promise<string[]>;
  /** Every session of a user except `keepTokenHash`; returns the deleted hashes. */
  deleteOthers(userId: number, keepTokenHash: string): Promise<string[]>;
  deleteExpired(): Promise<number>;
}

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  password_hash: string;
  role: Role;
  org_unit_id: number;
  disabled: number;
  kiosk_screen_id: number | null;
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
  kioskScreenId: r.kiosk_screen_id,
  createdAt: r.created_at,
});

const USER_COLS = 'id, username, display_name, password_hash, role, org_unit_id, disabled, kiosk_screen_id, created_at';

/** Not a password hash: password login can never succeed for an account holding it. */
export const NO_PASSWORD = '!nologin';

export function createUserRepo(store: Store, now: () => Date): UserRepo {
  const byId = async (id: number) => {
    const r = await store.get<UserRow>(`SELECT ${USER_COLS} FROM users WHERE id = ?`, [id]);
    return r ? fromRow(r) : undefined;
  };
  return {
    byId,
    async byUsername(username) {
      const r = await store.get<UserRow>(`SELECT ${USER_COLS} FROM users WHERE username = ?`, [username]);
      return r ? fromRow(r) : undefined;
    },
    list: async () => (await store.all<UserRow>(`SELECT ${USER_COLS} FROM users ORDER BY id`)).map(fromRow),
    async insert(u) {
      const id = await store.insert(
        'INSERT INTO users (username, display_name, password_hash, role, org_unit_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [u.username, u.displayName, u.passwordHash, u.role, u.orgUnitId, now().toISOString()],
      );
      const created = await byId(id);
      if (!created) throw new Error('user vanished after insert');
      return created;
    },
    async byKioskScreen(screenId) {
      const r = await store.get<UserRow>(`SELECT ${USER_COLS} FROM users WHERE kiosk_screen_id = ?`, [screenId]);
      return r ? fromRow(r) : undefined;
    },
    async insertKiosk(screenId, displayName, orgUnitId) {
      // The name only labels the account in lists; the column is what ties it to
      // the screen. '#' is outside the user-name alphabet, so no one can take it.
      const id = await store.insert(
        "INSERT INTO users (username, display_name, password_hash, role, org_unit_id, kiosk_screen_id, created_at) VALUES (?, ?, ?, 'viewer', ?, ?, ?)",
        [`#kiosk-${screenId}`, displayName, NO_PASSWORD, orgUnitId, screenId, now().toISOString()],
      );
      const created = await byId(id);
      if (!created) throw new Error('user vanished after insert');
      return created;
    },
    async update(id, patch) {
      const cols: [string, string | number | undefined][] = [
        ['display_name', patch.displayName],
        ['password_hash', patch.passwordHash],
        ['role', patch.role],
        ['org_unit_id', patch.orgUnitId],
        ['disabled', patch.disabled === undefined ? undefined : patch.disabled ? 1 : 0],
      ];
      const given = cols.filter((c): c is [string, string | number] => c[1] !== undefined);
      const sets = given.map(([c]) => `${c} = ?`);
      const params = given.map(([, v]) => v);
      if (sets.length) await store.run(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
      return await byId(id);
    },
    count: async () => (await store.get<{ n: number }>('SELECT COUNT(*) AS n FROM users'))?.n ?? 0,
  };
}

export function createSessionRepo(store: Store, now: () => Date): SessionRepo {
  return {
    async create(tokenHash, userId, expiresAt, ip, userAgent) {
      await store.run(
        'INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)',
        [tokenHash, userId, now().toISOString(), expiresAt.toISOString(), ip, userAgent],
      );
    },
    async find(tokenHash) {
      const r = await store.get<{ user_id: number; expires_at: string }>(
        'SELECT user_id, expires_at FROM sessions WHERE token_hash = ?',
        [tokenHash],
      );
      return r ? { userId: r.user_id, expiresAt: r.expires_at } : undefined;
    },
    delete: async (tokenHash) =>
      (await store.run('DELETE FROM sessions WHERE token_hash = ?', [tokenHash])).changes > 0,
    deleteForUser: (userId) =>
      store.transaction(async () => {
        const hashes = (
          await store.all<{ token_hash: string }>('SELECT token_hash FROM sessions WHERE user_id = ?', [userId])
        ).map((r) => r.token_hash);
        await store.run('DELETE FROM sessions WHERE user_id = ?', [userId]);
        return hashes;
      }),
    deleteOthers: (userId, keep) =>
      store.transaction(async () => {
        const hashes = (
          await store.all<{ token_hash: string }>(
            'SELECT token_hash FROM sessions WHERE user_id = ? AND token_hash <> ?',
            [userId, keep],
          )
        ).map((r) => r.token_hash);
        await store.run('DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?', [userId, keep]);
        return hashes;
      }),
    deleteExpired: async () =>
      (await store.run('DELETE FROM sessions WHERE expires_at < ?', [now().toISOString()])).changes,
  };
}

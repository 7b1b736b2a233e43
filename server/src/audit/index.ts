import type { AuditEntry } from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { pathRange } from '../org/scope.ts';

/** Who did something: a logged-in user, or an anonymous caller known by address. */
export interface AuditActor {
  userId: number | null;
  username: string | null;
  ip: string | null;
}

/** The actor of a signed-in caller's request (`ctx` is the request's `AuthContext`). */
export function actorOf(ctx: { user: { id: number; username: string } }, ip: string | null): AuditActor {
  return { userId: ctx.user.id, username: ctx.user.username, ip };
}

export interface AuditEvent {
  actor: AuditActor;
  /** Dotted verb, e.g. `auth.login`, `camera.update`, `camera.import`, `camera.export`. */
  action: string;
  targetType?: string;
  targetId?: string | number;
  outcome: 'ok' | 'denied' | 'failed';
  detail?: Record<string, unknown>;
}

/** What the audit page and its export filter by; every field optional. */
export interface AuditFilter {
  /** `camera.update`, or a family with a trailing `.*` (`camera.*`). */
  action?: string;
  outcome?: 'ok' | 'denied' | 'failed';
  /** Exact username. */
  username?: string;
  targetType?: string;
  targetId?: string;
  /** ISO-8601 instants, from inclusive, to exclusive. */
  from?: string;
  to?: string;
}

/**
 * Whose entries a caller may read: `whole` (an admin at the root of the org
 * tree) reads everything, anonymous callers and the system included; anyone
 * else only entries of accounts whose unit is inside `path` (a township admin
 * never reads the county's or another township's log).
 */
export type AuditScope = { whole: true } | { whole: false; path: string };

/** 审计 — an append-only record of logins, edits, imports, exports and denials. */
export interface AuditLog {
  record(e: AuditEvent): Promise<void>;
  /** Newest first; `beforeId` pages backwards. Without `scope`: every entry (internal callers). */
  list(opts: { beforeId?: number; limit: number; scope?: AuditScope } & AuditFilter): Promise<AuditEntry[]>;
}

interface AuditRow {
  id: number;
  at: string;
  user_id: number | null;
  username: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'ok' | 'denied' | 'failed';
  ip: string | null;
  detail: string | null;
}

export function createAuditLog(store: Store, now: () => Date): AuditLog {
  return {
    async record(e) {
      await store.run(
        'INSERT INTO audit_log (at, user_id, username, action, target_type, target_id, outcome, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          now().toISOString(),
          e.actor.userId,
          e.actor.username,
          e.action,
          e.targetType ?? null,
          e.targetId === undefined ? null : String(e.targetId),
          e.outcome,
          e.actor.ip,
          e.detail ? JSON.stringify(e.detail) : null,
        ],
      );
    },
    async list({ beforeId, limit, scope, ...f }) {
      const clauses = ['a.id < ?'];
      const params: (string | number)[] = [beforeId ?? Number.MAX_SAFE_INTEGER];
      let join = '';
      if (scope && !scope.whole) {
        const [lo, hi] = pathRange(scope.path);
        join = 'JOIN users u ON u.id = a.user_id JOIN org_units o ON o.id = u.org_unit_id';
        clauses.push('o.path >= ? AND o.path < ?');
        params.push(lo, hi);
      }
      if (f.action?.endsWith('.*')) {
        // A family: `camera.*` is every action whose name starts with `camera.` (prefix range).
        const prefix = f.action.slice(0, -1);
        clauses.push('a.action >= ? AND a.action < ?');
        params.push(prefix, prefix.slice(0, -1) + '/');
      } else if (f.action) {
        clauses.push('a.action = ?');
        params.push(f.action);
      }
      const eq: [string, string | undefined][] = [
        ['a.outcome', f.outcome],
        ['a.username', f.username],
        ['a.target_type', f.targetType],
        ['a.target_id', f.targetId],
      ];
      for (const [col, v] of eq) {
        if (v === undefined) continue;
        clauses.push(`${col} = ?`);
        params.push(v);
      }
      if (f.from) {
        clauses.push('a.at >= ?');
        params.push(f.from);
      }
      if (f.to) {
        clauses.push('a.at < ?');
        params.push(f.to);
      }
      return (
        await store.all<AuditRow>(
          `SELECT a.id, a.at, a.user_id, a.username, a.action, a.target_type, a.target_id, a.outcome, a.ip, a.detail
           FROM audit_log a ${join} WHERE ${clauses.join(' AND ')} ORDER BY a.id DESC LIMIT ?`,
          [...params, limit],
        )
      ).map((r) => ({
        id: r.id,
        at: r.at,
        userId: r.user_id,
        username: r.username,
        action: r.action,
        targetType: r.target_type,
        targetId: r.target_id,
        outcome: r.outcome,
        ip: r.ip,
        detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
      }));
    },
  };
}

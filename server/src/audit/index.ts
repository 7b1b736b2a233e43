import type { AuditEntry } from '../api/contract.ts';
import type { SqlDb } from '../db/sqlite.ts';

/** Who did something: a logged-in user, or an anonymous caller known by address. */
export interface AuditActor {
  userId: number | null;
  username: string | null;
  ip: string | null;
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

/** 审计 — an append-only record of logins, edits, imports, exports and denials. */
export interface AuditLog {
  record(e: AuditEvent): void;
  /** Newest first; `beforeId` pages backwards. */
  list(opts: { beforeId?: number; limit: number; action?: string }): AuditEntry[];
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

export function createAuditLog(db: SqlDb, now: () => Date): AuditLog {
  return {
    record(e) {
      db.run(
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
    list({ beforeId, limit, action }) {
      const clauses = ['id < ?'];
      const params: (string | number)[] = [beforeId ?? Number.MAX_SAFE_INTEGER];
      if (action) {
        clauses.push('action = ?');
        params.push(action);
      }
      return db
        .all<AuditRow>(
          `SELECT id, at, user_id, username, action, target_type, target_id, outcome, ip, detail FROM audit_log WHERE ${clauses.join(' AND ')} ORDER BY id DESC LIMIT ?`,
          [...params, limit],
        )
        .map((r) => ({
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

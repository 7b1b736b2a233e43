import { createHash, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import type { LoginResponse, Permission, SessionEndReason, SessionUser } from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { actorOf, type AuditLog } from '../audit/index.ts';
import { createSharedCounters, type SharedCounters } from '../cluster/rate-windows.ts';
import type { AppConfig } from '../config/schema.ts';
import { HttpError, forbidden, parseOr400, unauthorized } from '../http/errors.ts';
import type { EventBus } from '../events.ts';
import { createLogger, type Clock } from '../http/logger.ts';
import type { OrgRepo, OrgUnit } from '../org/repo.ts';
import type { Scope } from '../org/scope.ts';
import { dummyHash, verifyPassword } from './password.ts';
import { createFailureLimiter } from './rate-limit.ts';
import type { SessionRepo, User, UserRepo } from './repo.ts';
import { can, permissionsOf } from './roles.ts';

export { hashPassword } from './password.ts';
export { createSessionRepo, createUserRepo, NO_PASSWORD, type User, type UserRepo, type SessionRepo } from './repo.ts';
export { can, permissionsOf } from './roles.ts';

/** Who is calling, resolved once per request. */
export interface AuthContext {
  user: User;
  orgUnit: OrgUnit;
  scope: Scope;
  tokenHash: string;
  /** When the session ends by itself (ISO-8601). */
  expiresAt: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own augmentation point
  namespace Express {
    interface Request {
      auth?: AuthContext;
    }
  }
}

const loginSchema = z
  .object({
    username: z.string().trim().min(1, 'required').max(64, 'at most 64 characters'),
    password: z.string().min(1, 'required').max(256, 'at most 256 characters'),
  })
  .strict();

export const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k && !out.has(k)) out.set(k, v);
  }
  return out;
}

export interface AuthDeps {
  config: AppConfig;
  users: UserRepo;
  sessions: SessionRepo;
  orgs: OrgRepo;
  audit: AuditLog;
  clock: Clock;
  /** Hears `session.ended`, so realtime drops the sockets of an ended session. */
  bus?: EventBus;
  /** Where login failures are counted (Redis, shared by every instance, when configured); memory when absent. */
  counters?: SharedCounters;
  /** A session opened or ended and its audit entry are written in one transaction (issue 13: both or neither). */
  store: Pick<Store, 'transaction'>;
}

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: AuthDeps) {
  const { config, users, sessions, orgs, audit, clock, bus } = deps;
  const atomically = <T>(fn: () => Promise<T>): Promise<T> => deps.store.transaction(fn);

  /**
   * Ends sessions and everything they opened: the rows go (so HTTP, stream
   * tickets and reconnects fail at once) and realtime disconnects their
   * sockets. `keep`: the caller's own session survives a change it made.
   */
  async function endSessions(
    target: { tokenHash: string } | { userId: number; keep?: string },
    reason: SessionEndReason,
  ): Promise<number> {
    if ('tokenHash' in target) {
      const gone = await sessions.delete(target.tokenHash);
      bus?.emit('session.ended', { tokenHashes: [target.tokenHash], userIds: [], reason });
      return gone ? 1 : 0;
    }
    const hashes = target.keep
      ? await sessions.deleteOthers(target.userId, target.keep)
      : await sessions.deleteForUser(target.userId);
    bus?.emit('session.ended', { tokenHashes: hashes, userIds: target.keep ? [] : [target.userId], reason });
    return hashes.length;
  }
  const rl = config.security.loginRateLimit;
  const counters =
    deps.counters ?? createSharedCounters({ redisUrl: null, keyPrefix: '', clock, log: createLogger('error') });
  const windowMs = rl.windowSeconds * 1000;
  const perUser = createFailureLimiter({ max: rl.maxAttempts, counter: counters.counter('login.user', windowMs) });
  // One address may try several accounts (a shared duty-room PC), but not endlessly.
  const perIp = createFailureLimiter({ max: rl.maxAttempts * 5, counter: counters.counter('login.ip', windowMs) });

  function sessionUser(user: User, org: OrgUnit): SessionUser {
    return {
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      orgUnitId: user.orgUnitId,
      orgUnitName: org.name,
      permissions: permissionsOf(user.role),
    };
  }

  /** Resolves a token to a context, or undefined when it is unknown, expired or its user disabled. */
  async function resolveToken(token: string): Promise<AuthContext | undefined> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return undefined;
    const tokenHash = hashToken(token);
    const s = await sessions.find(tokenHash);
    if (!s) return undefined;
    if (new Date(s.expiresAt).getTime() <= clock.now().getTime()) {
      await endSessions({ tokenHash }, 'expired');
      return undefined;
    }
    const user = await users.byId(s.userId);
    if (!user || user.disabled) return undefined;
    const orgUnit = orgs.byId(user.orgUnitId);
    if (!orgUnit) return undefined;
    return {
      user,
      orgUnit,
      scope: { orgUnitId: orgUnit.id, path: orgUnit.path },
      tokenHash,
      expiresAt: s.expiresAt,
    };
  }

  function tokenFrom(req: { headers: Record<string, string | string[] | undefined> }): string | undefined {
    const authz = req.headers.authorization;
    if (typeof authz === 'string' && authz.startsWith('Bearer ')) return authz.slice(7).trim();
    const cookie = req.headers.cookie;
    return parseCookies(typeof cookie === 'string' ? cookie : undefined).get(config.security.cookieName);
  }

  async function login(req: Request, res: Response): Promise<LoginResponse> {
    const body = parseOr400(loginSchema, req.body);
    const ip = req.ip ?? null;
    const userKey = `${ip}|${body.username.toLowerCase()}`;
    const ipKey = `${ip}`;
    const wait = Math.max(await perUser.blockedFor(userKey), await perIp.blockedFor(ipKey));
    if (wait > 0) {
      await audit.record({
        actor: { userId: null, username: body.username, ip },
        action: 'auth.login',
        outcome: 'denied',
        detail: { reason: 'rate_limited' },
      });
      throw new HttpError(429, 'rate_limited', `too many failed logins; try again in ${wait} s`, undefined, {
        'Retry-After': String(wait),
      });
    }
    const user = await users.byUsername(body.username);
    // Verify against a dummy hash when the user is unknown, so timing does not tell which usernames exist.
    const valid = await verifyPassword(body.password, user?.passwordHash ?? (await dummyHash()));
    const orgUnit = user ? orgs.byId(user.orgUnitId) : undefined;
    // A kiosk account signs in by its screen's token only.
    if (!user || !valid || user.disabled || user.kioskScreenId !== null || !orgUnit) {
      await Promise.all([perUser.fail(userKey), perIp.fail(ipKey)]);
      await audit.record({
        actor: { userId: user?.id ?? null, username: body.username, ip },
        action: 'auth.login',
        outcome: 'failed',
        detail: { reason: user?.disabled ? 'disabled' : 'bad_credentials' },
      });
      throw new HttpError(401, 'bad_credentials', 'wrong username or password');
    }
    await perUser.reset(userKey);
    const { token, expiresAt } = await atomically(async () => {
      const opened = await openSession(req, null, user, config.security.sessionTtlHours * 3600_000);
      await audit.record({
        actor: { userId: user.id, username: user.username, ip },
        action: 'auth.login',
        outcome: 'ok',
      });
      return opened;
    });
    setSessionCookie(res, token, expiresAt);
    return { user: sessionUser(user, orgUnit), token, expiresAt: expiresAt.toISOString() };
  }

  async function logout(req: Request, res: Response): Promise<void> {
    const ctx = req.auth;
    if (ctx) {
      await atomically(async () => {
        await endSessions({ tokenHash: ctx.tokenHash }, 'logout');
        await audit.record({
          actor: actorOf(ctx, req.ip ?? null),
          action: 'auth.logout',
          outcome: 'ok',
        });
      });
    }
    res.clearCookie(config.security.cookieName, { path: '/' });
  }

  /** Express middleware: attaches req.auth when the request carries a valid session (async; Express 5 sends a rejection to next). */
  async function authenticate(req: Request, _res: Response, next: NextFunction): Promise<void> {
    const token = tokenFrom(req);
    if (token) {
      const ctx = await resolveToken(token);
      if (ctx) req.auth = ctx;
    }
    next();
  }

  function requireAuth(req: Request, _res: Response, next: NextFunction): void {
    next(req.auth ? undefined : unauthorized());
  }

  /** 401 without a session; 403 (audited) when the role lacks the permission. Async Express middleware. */
  function requirePermission(p: Permission) {
    return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
      const ctx = req.auth;
      if (!ctx) return next(unauthorized());
      if (!can(ctx.user.role, p)) {
        await audit.record({
          actor: actorOf(ctx, req.ip ?? null),
          action: 'authz.denied',
          outcome: 'denied',
          detail: { permission: p, method: req.method, path: req.path },
        });
        return next(forbidden(`your role may not ${p.replace('.', ' ')}`));
      }
      next();
    };
  }

  /** Opens a session for `user` (password login, kiosk sign-in) and sets the cookie (unless `res` is null: bearer only). */
  async function openSession(
    req: Request,
    res: Response | null,
    user: User,
    ttlMs: number,
  ): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(clock.now().getTime() + ttlMs);
    await sessions.create(
      hashToken(token),
      user.id,
      expiresAt,
      req.ip ?? null,
      req.get('user-agent')?.slice(0, 256) ?? null,
    );
    if (res) setSessionCookie(res, token, expiresAt);
    return { token, expiresAt };
  }

  function setSessionCookie(res: Response, token: string, expiresAt: Date): void {
    res.cookie(config.security.cookieName, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: config.security.secureCookie,
      path: '/',
      expires: expiresAt,
    });
  }

  return {
    login,
    logout,
    authenticate,
    requireAuth,
    requirePermission,
    resolveToken,
    tokenFrom,
    sessionUser,
    endSessions,
    openSession,
  };
}

/** The caller of a route behind requireAuth. */
export function authOf(req: Request): AuthContext {
  if (!req.auth) throw unauthorized();
  return req.auth;
}

import { Router } from 'express';
import { z } from 'zod';
import { ROLES, type UserView } from '../api/contract.ts';
import type { Store } from '../db/store.ts';
import { actorOf, type AuditLog } from '../audit/index.ts';
import { plainText } from '../cameras/schema.ts';
import { conflict, forbidden, HttpError, notFound, parseOr400 } from '../http/errors.ts';
import type { OrgRepo } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import { authOf, type AuthService } from './index.ts';
import { hashPassword, verifyPassword } from './password.ts';
import type { User, UserRepo } from './repo.ts';

/** A new password: the same rule wherever one is set. */
const password = z.string().min(8, 'at least 8 characters').max(256, 'at most 256 characters');

const userInput = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9_.-]{3,32}$/, '3-32 letters, digits, _ . or -'),
    displayName: plainText(64),
    password,
    role: z.enum(ROLES),
    orgUnitId: z.number().int().positive(),
  })
  .strict();

const userUpdate = z
  .object({
    displayName: plainText(64).optional(),
    password: password.optional(),
    role: z.enum(ROLES).optional(),
    orgUnitId: z.number().int().positive().optional(),
    disabled: z.boolean().optional(),
  })
  .strict();

const passwordChange = z
  .object({ currentPassword: z.string().min(1, 'required').max(256, 'at most 256 characters'), newPassword: password })
  .strict();

const idParam = z.object({ id: z.coerce.number().int().positive('not a user id') });

const view = (u: User): UserView => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
  orgUnitId: u.orgUnitId,
  disabled: u.disabled,
  kioskScreenId: u.kioskScreenId,
  createdAt: u.createdAt,
});

export function authRoutes(deps: {
  auth: AuthService;
  users: UserRepo;
  orgs: OrgRepo;
  audit: AuditLog;
  /** A change and its audit entry are written in one transaction (issue 13: both or neither). */
  store: Pick<Store, 'transaction'>;
}): Router {
  const { auth, users, orgs, audit, store } = deps;
  const r = Router();

  r.post('/auth/login', async (req, res) => {
    res.json(await auth.login(req, res));
  });
  r.post('/auth/logout', async (req, res) => {
    await auth.logout(req, res);
    res.status(204).end();
  });
  r.get('/auth/me', auth.requireAuth, (req, res) => {
    const ctx = authOf(req);
    res.json(auth.sessionUser(ctx.user, ctx.orgUnit));
  });
  // The console's first question, "am I signed in?": not signed in is an answer
  // (200 null), not a failure, so a page load logs no 401 (issue 17). /auth/me
  // stays 401 for callers that need a session.
  r.get('/auth/session', (req, res) => {
    const ctx = req.auth;
    res.json(ctx ? auth.sessionUser(ctx.user, ctx.orgUnit) : null);
  });

  // The caller's own password: every other session of the account ends (a
  // stolen session must not outlive the change); this one stays signed in.
  r.post('/auth/password', auth.requireAuth, async (req, res) => {
    const ctx = authOf(req);
    const input = parseOr400(passwordChange, req.body);
    const actor = actorOf(ctx, req.ip ?? null);
    if (ctx.user.kioskScreenId !== null) throw forbidden('a kiosk account has no password');
    if (!(await verifyPassword(input.currentPassword, ctx.user.passwordHash))) {
      await audit.record({ actor, action: 'auth.password', outcome: 'failed', detail: { reason: 'bad_credentials' } });
      throw new HttpError(400, 'bad_credentials', 'currentPassword: wrong password', [
        { path: 'currentPassword', message: 'wrong password' },
      ]);
    }
    const passwordHash = await hashPassword(input.newPassword);
    await store.transaction(async () => {
      await users.update(ctx.user.id, { passwordHash });
      const ended = await auth.endSessions({ userId: ctx.user.id, keep: ctx.tokenHash }, 'password_changed');
      await audit.record({ actor, action: 'auth.password', outcome: 'ok', detail: { endedSessions: ended } });
    });
    res.status(204).end();
  });

  r.get('/users', auth.requirePermission('user.read'), async (req, res) => {
    const ctx = authOf(req);
    res.json(
      (await users.list())
        .filter((u) => {
          const org = orgs.byId(u.orgUnitId);
          return org && inScope(ctx.scope, org.path);
        })
        .map(view),
    );
  });

  r.post('/users', auth.requirePermission('user.write'), async (req, res) => {
    const ctx = authOf(req);
    const input = parseOr400(userInput, req.body);
    const org = orgs.byId(input.orgUnitId);
    if (!org || !inScope(ctx.scope, org.path)) {
      throw forbidden('orgUnitId: org unit is not in your jurisdiction', [
        { path: 'orgUnitId', message: 'org unit is not in your jurisdiction' },
      ]);
    }
    if (await users.byUsername(input.username))
      throw conflict('username: already taken', [{ path: 'username', message: 'already taken' }]);
    const passwordHash = await hashPassword(input.password);
    const created = await store.transaction(async () => {
      const created = await users.insert({
        username: input.username,
        displayName: input.displayName,
        passwordHash,
        role: input.role,
        orgUnitId: org.id,
      });
      await audit.record({
        actor: actorOf(ctx, req.ip ?? null),
        action: 'user.create',
        targetType: 'user',
        targetId: created.id,
        outcome: 'ok',
        detail: { username: created.username, role: created.role, orgUnitId: created.orgUnitId },
      });
      return created;
    });
    res.status(201).json(view(created));
  });

  r.patch('/users/:id', auth.requirePermission('user.write'), async (req, res) => {
    const ctx = authOf(req);
    const { id } = parseOr400(idParam, req.params);
    const input = parseOr400(userUpdate, req.body);
    const target = await users.byId(id);
    const targetOrg = target ? orgs.byId(target.orgUnitId) : undefined;
    // Out of scope answers like missing.
    if (!target || !targetOrg || !inScope(ctx.scope, targetOrg.path)) throw notFound('user');
    if (input.orgUnitId !== undefined) {
      const org = orgs.byId(input.orgUnitId);
      if (!org || !inScope(ctx.scope, org.path))
        throw forbidden('orgUnitId: org unit is not in your jurisdiction', [
          { path: 'orgUnitId', message: 'org unit is not in your jurisdiction' },
        ]);
    }
    if (target.kioskScreenId !== null && (input.password !== undefined || input.role !== undefined))
      throw new HttpError(400, 'validation_failed', 'a kiosk account takes neither a password nor a role', [
        { path: input.password !== undefined ? 'password' : 'role', message: 'not for a kiosk account' },
      ]);
    if (target.id === ctx.user.id && (input.disabled === true || (input.role && input.role !== target.role)))
      throw new HttpError(400, 'validation_failed', 'you cannot disable yourself or change your own role', [
        { path: input.disabled === true ? 'disabled' : 'role', message: 'not on your own account' },
      ]);
    const passwordHash = input.password !== undefined ? await hashPassword(input.password) : undefined;
    const updated = await store.transaction(async () => {
      const updated = await users.update(id, {
        ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
        ...(passwordHash !== undefined ? { passwordHash } : {}),
        ...(input.role !== undefined ? { role: input.role } : {}),
        ...(input.orgUnitId !== undefined ? { orgUnitId: input.orgUnitId } : {}),
        ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
      });
      if (!updated) throw notFound('user');
      // What the account may see or who may use it changed: its sessions end.
      const reason =
        input.disabled === true
          ? 'disabled'
          : input.password !== undefined
            ? 'password_changed'
            : input.role !== undefined || input.orgUnitId !== undefined
              ? 'changed'
              : null;
      const ended =
        reason && (reason !== 'changed' || updated.role !== target.role || updated.orgUnitId !== target.orgUnitId)
          ? await auth.endSessions({ userId: id }, reason)
          : 0;
      await audit.record({
        actor: actorOf(ctx, req.ip ?? null),
        action: 'user.update',
        targetType: 'user',
        targetId: id,
        outcome: 'ok',
        detail: {
          fields: Object.keys(input).filter((k) => k !== 'password'),
          passwordReset: input.password !== undefined,
          endedSessions: ended,
        },
      });
      return updated;
    });
    res.json(view(updated));
  });

  return r;
}

import { Router } from 'express';
import { z } from 'zod';
import { ROLES, type UserView } from '../api/contract.ts';
import type { AuditLog } from '../audit/index.ts';
import { plainText } from '../cameras/schema.ts';
import { conflict, forbidden, parseOr400 } from '../http/errors.ts';
import type { OrgRepo } from '../org/repo.ts';
import { inScope } from '../org/scope.ts';
import { authOf, type AuthService } from './index.ts';
import { hashPassword } from './password.ts';
import type { User, UserRepo } from './repo.ts';

const userInput = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9_.-]{3,32}$/, '3-32 letters, digits, _ . or -'),
    displayName: plainText(64),
    password: z.string().min(8, 'at least 8 characters').max(256, 'at most 256 characters'),
    role: z.enum(ROLES),
    orgUnitId: z.number().int().positive(),
  })
  .strict();

const view = (u: User): UserView => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  role: u.role,
  orgUnitId: u.orgUnitId,
  disabled: u.disabled,
  createdAt: u.createdAt,
});

export function authRoutes(deps: { auth: AuthService; users: UserRepo; orgs: OrgRepo; audit: AuditLog }): Router {
  const { auth, users, orgs, audit } = deps;
  const r = Router();

  r.post('/auth/login', async (req, res) => {
    res.json(await auth.login(req, res));
  });
  r.post('/auth/logout', (req, res) => {
    auth.logout(req, res);
    res.status(204).end();
  });
  r.get('/auth/me', auth.requireAuth, (req, res) => {
    const ctx = authOf(req);
    res.json(auth.sessionUser(ctx.user, ctx.orgUnit));
  });

  r.get('/users', auth.requirePermission('user.read'), (req, res) => {
    const ctx = authOf(req);
    res.json(
      users
        .list()
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
    if (users.byUsername(input.username))
      throw conflict('username: already taken', [{ path: 'username', message: 'already taken' }]);
    const created = users.insert({
      username: input.username,
      displayName: input.displayName,
      passwordHash: await hashPassword(input.password),
      role: input.role,
      orgUnitId: org.id,
    });
    audit.record({
      actor: { userId: ctx.user.id, username: ctx.user.username, ip: req.ip ?? null },
      action: 'user.create',
      targetType: 'user',
      targetId: created.id,
      outcome: 'ok',
      detail: { username: created.username, role: created.role, orgUnitId: created.orgUnitId },
    });
    res.status(201).json(view(created));
  });

  return r;
}

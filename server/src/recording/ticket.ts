/**
 * Playback tickets (录像回放 issue 14): one format and one audit row for platform playback (`rec`, a range of
 * the index) and device playback (`dev`, one replay relay of the camera's own storage). Like live tickets
 * (relay/tokens.ts): `<payload>.<HMAC-SHA256>`, both base64url, bound to one session and one point as it was,
 * until `exp`. The kind comes first in the payload, so neither kind (nor a live ticket) passes for another.
 */
import type { AuditLog } from '../audit/index.ts';
import { can, type AuthContext } from '../auth/index.ts';
import type { CameraPoint, CameraRepo } from '../cameras/repo.ts';
import { actorOf } from '../audit/index.ts';
import { HttpError, notFound } from '../http/errors.ts';
import type { Clock } from '../http/logger.ts';
import { cameraRef, openSealed, sameRef, sealText, sessionRef } from '../relay/tokens.ts';

/** What a ticket plays: a range of the platform's recordings, or one replay from the device. */
export type PlaybackTarget = { kind: 'rec'; fromMs: number; toMs: number } | { kind: 'dev'; replayId: string };

export type PlaybackGrant<T extends PlaybackTarget = PlaybackTarget> = T & {
  userId: number;
  cameraId: number;
  /** Epoch seconds. */
  exp: number;
  sessionRef: string;
  cameraRef: string;
};

export interface TicketDeps {
  tokenKey: Buffer;
  ticketTtlSec: number;
  audit: AuditLog;
  clock: Clock;
}

const REF = '([A-Za-z0-9_-]{16})';
const PAYLOAD = {
  rec: new RegExp(`^rec\\.(\\d{1,15})\\.(\\d{1,15})\\.(\\d{1,15})\\.(\\d{1,15})\\.(\\d{1,12})\\.${REF}\\.${REF}$`),
  dev: new RegExp(`^dev\\.(\\d{1,15})\\.(\\d{1,15})\\.([0-9a-f]{16})\\.(\\d{1,12})\\.${REF}\\.${REF}$`),
};

function sign(key: Buffer, g: PlaybackGrant): string {
  const what = g.kind === 'rec' ? `${g.fromMs}.${g.toMs}` : g.replayId;
  return sealText(key, `${g.kind}.${g.userId}.${g.cameraId}.${what}.${g.exp}.${g.sessionRef}.${g.cameraRef}`);
}

function parse(kind: PlaybackTarget['kind'], text: string): PlaybackGrant | undefined {
  const f = PAYLOAD[kind].exec(text);
  if (!f) return undefined;
  if (kind === 'rec') {
    return {
      kind,
      userId: Number(f[1]),
      cameraId: Number(f[2]),
      fromMs: Number(f[3]),
      toMs: Number(f[4]),
      exp: Number(f[5]),
      sessionRef: f[6]!,
      cameraRef: f[7]!,
    };
  }
  return {
    kind,
    userId: Number(f[1]),
    cameraId: Number(f[2]),
    replayId: f[3]!,
    exp: Number(f[4]),
    sessionRef: f[5]!,
    cameraRef: f[6]!,
  };
}

/** Checks a ticket's signature, kind and expiry. */
export function verifyPlaybackTicket<K extends PlaybackTarget['kind']>(
  key: Buffer,
  kind: K,
  token: string,
  nowSec: number,
): PlaybackGrant<Extract<PlaybackTarget, { kind: K }>> | 'malformed' | 'forged' | 'expired' {
  const text = openSealed(key, token, 300);
  if (text === 'malformed' || text === 'forged') return text;
  const g = parse(kind, text);
  if (!g) return 'malformed';
  return g.exp <= nowSec ? 'expired' : (g as PlaybackGrant<Extract<PlaybackTarget, { kind: K }>>);
}

/**
 * Signs a playback ticket for the asking session and point, and audits it (`recording.play` on the camera,
 * with `detail`): every playback, platform or device, is one such row.
 */
export async function issuePlaybackTicket(
  deps: TicketDeps,
  ctx: AuthContext,
  ip: string | null,
  camera: CameraPoint,
  target: PlaybackTarget,
  detail: Record<string, unknown>,
): Promise<{ token: string; exp: number }> {
  const exp = Math.floor(deps.clock.now().getTime() / 1000) + deps.ticketTtlSec;
  const token = sign(deps.tokenKey, {
    ...target,
    userId: ctx.user.id,
    cameraId: camera.id,
    exp,
    sessionRef: sessionRef(deps.tokenKey, ctx.tokenHash),
    cameraRef: cameraRef(deps.tokenKey, camera),
  });
  await deps.audit.record({
    actor: actorOf(ctx, ip),
    action: 'recording.play',
    targetType: 'camera',
    targetId: camera.id,
    outcome: 'ok',
    detail,
  });
  return { token, exp };
}

/**
 * A playlist or segment request under a ticket: the ticket's session must be the requester's own (resolved
 * afresh), its user still allowed to play recordings, the point still the same and in the user's scope.
 */
export async function redeemPlaybackTicket<K extends PlaybackTarget['kind']>(
  deps: { tokenKey: Buffer; clock: Clock; cameras: CameraRepo },
  kind: K,
  session: AuthContext | undefined,
  token: string,
): Promise<{ grant: PlaybackGrant<Extract<PlaybackTarget, { kind: K }>>; camera: CameraPoint; session: AuthContext }> {
  const g = verifyPlaybackTicket(deps.tokenKey, kind, token, Math.floor(deps.clock.now().getTime() / 1000));
  if (typeof g === 'string') throw new HttpError(401, `token_${g}`, `stream token ${g}; request a new one`);
  if (!session)
    throw new HttpError(401, 'session_required', 'a stream plays only for the signed-in session that asked for it');
  if (session.user.id !== g.userId || !sameRef(sessionRef(deps.tokenKey, session.tokenHash), g.sessionRef))
    throw new HttpError(403, 'ticket_not_yours', 'this stream ticket was issued to another session');
  if (!can(session.user.role, 'recording.read'))
    throw new HttpError(403, 'forbidden', 'your role may not play recordings');
  const c = await deps.cameras.byId(session.scope, g.cameraId);
  if (!c || !sameRef(cameraRef(deps.tokenKey, c), g.cameraRef)) throw notFound('camera point');
  return { grant: g, camera: c, session };
}

/** Whether a ticket is a device playback one (its payload says so; the signature is checked later). */
export function isDeviceTicket(token: string): boolean {
  const payload = token.split('.')[0] ?? '';
  return payload.length < 400 && Buffer.from(payload, 'base64url').toString('utf8').startsWith('dev.');
}

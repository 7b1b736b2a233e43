import { StorageUnavailableError } from '../db/store.ts';
import { recheckPass } from '../auth/recheck.ts';
import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import { createHash } from 'node:crypto';
import {
  EVENT_PERMISSIONS,
  type ClientToServerEvents,
  type Permission,
  type ServerToClientEvents,
  type SessionEndReason,
} from '../api/contract.ts';
import { permissionsOf, type AuthContext, type AuthService } from '../auth/index.ts';
import { createLogger, type Clock, type Logger } from '../http/logger.ts';
import type { CameraService } from '../cameras/service.ts';
import { deviceView, scanView } from '../discovery/repo.ts';
import type { EventBus } from '../events.ts';

export { connectRedisFanout, type RedisFanout } from './redis.ts';

interface SocketData {
  auth: AuthContext;
}

/** Room of the sockets that hold `permission` over org unit `id`'s subtree (their own unit is `id`). */
export const grantRoom = (permission: Permission, id: number | string) => `${permission}@org:${id}`;
/** Room of one session's sockets; the token hash is digested again so it never travels to Redis as is. */
const sessionRoom = (tokenHash: string) => `session:${createHash('sha256').update(tokenHash).digest('base64url')}`;
const userRoom = (id: number) => `user:${id}`;

/** Every org unit id that must hear about a record at `orgPath`: the unit itself and all its ancestors. */
export function unitsFor(orgPath: string): string[] {
  return orgPath.split('/').filter(Boolean);
}

/** setTimeout's longest delay; a session expiring later is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Socket.IO with the session cookie (or a bearer token in `auth.token`).
 *
 * Scope and permission: a socket joins one room per permission its role holds,
 * for its own org unit; an event goes to the rooms of the permission it needs
 * (`EVENT_PERMISSIONS` in the contract) at the record's org unit and its
 * ancestors. So a township hears its own villages, the county hears
 * everything, and a role hears only what its HTTP routes would show it. `send`
 * is the only way out, so an event cannot skip its permission.
 *
 * Sessions: a socket belongs to the session that opened it. Ending a session
 * (logout, kiosk revocation, password change, a disabled account) disconnects
 * its sockets at once on every instance; expiry does the same by a timer, and
 * a periodic check catches sessions removed any other way. Connection-state
 * recovery is off: it would restore rooms and queued pushes before any check,
 * so every reconnect authenticates again and clients replay by cursor.
 */
export function attachRealtime(
  http: HttpServer,
  deps: {
    auth: AuthService;
    bus: EventBus;
    cameras: CameraService;
    clock?: Clock;
    /** Where a failed session lookup is reported; errors to stderr when absent. */
    log?: Logger;
    /** How often every local socket's session is checked again (ms). */
    recheckMs?: number;
    /** A cluster adapter (Redis Streams) so several processes share rooms; in-process when absent. */
    adapter?: ServerOptions['adapter'];
    /** With the adapter: its health reports (`RedisFanout.onHealth`) and the alert cursor now (counter). */
    fanout?: { onHealth(listener: (up: boolean) => void): void; alertCursor(): Promise<number> };
  },
) {
  const now = () => (deps.clock ? deps.clock.now().getTime() : Date.now());
  const log = deps.log ?? createLogger('error');
  let closed = false;
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(http, {
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
  });
  type Sock = typeof io.sockets.sockets extends Map<string, infer S> ? S : never;
  /** The session a socket's handshake carries (its `auth.token`, else the cookie or bearer header). */
  const sessionOfSocket = (socket: Sock): Promise<AuthContext | undefined> => {
    const fromAuth: unknown = socket.handshake.auth['token'];
    const token = typeof fromAuth === 'string' ? fromAuth : deps.auth.tokenFrom({ headers: socket.handshake.headers });
    return token ? deps.auth.resolveToken(token) : Promise.resolve(undefined);
  };

  io.use((socket, next) => {
    sessionOfSocket(socket)
      .then(
        (ctx) => {
          if (!ctx) return next(new Error('unauthorized'));
          socket.data.auth = ctx;
          next();
        },
        (err: unknown) => {
          // The lookup failed (not the session): refuse this attempt; the client retries.
          if (err instanceof StorageUnavailableError)
            log.warn('realtime handshake refused: storage unavailable', { reason: err.reason });
          else log.error('realtime session lookup failed', { err: String(err) });
          next(new Error('unavailable'));
        },
      )
      .catch((err: unknown) => log.error('realtime handshake failed', { err: String(err) }));
  });

  const endSocket = (socket: Sock, reason: SessionEndReason) => {
    socket.emit('session:ended', { reason });
    socket.disconnect(true);
  };

  io.on('connection', (socket) => {
    const { user, orgUnit, tokenHash, expiresAt } = socket.data.auth;
    void socket.join([
      ...permissionsOf(user.role).map((p) => grantRoom(p, orgUnit.id)),
      sessionRoom(tokenHash),
      userRoom(user.id),
    ]);
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      const left = new Date(expiresAt).getTime() - now();
      if (left <= 0) return endSocket(socket, 'expired');
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      timer.unref();
    };
    arm();
    socket.on('disconnect', () => clearTimeout(timer));
    socket.on('session:whoami', (ack) => {
      if (typeof ack !== 'function') return;
      const ctx = socket.data.auth;
      ack({ ok: true, data: deps.auth.sessionUser(ctx.user, ctx.orgUnit) });
    });
  });

  /** The one way a push leaves: to the holders of the event's permission at `unitIds`. */
  function send<K extends keyof ServerToClientEvents>(
    event: K,
    unitIds: readonly (number | string)[],
    ...args: Parameters<ServerToClientEvents[K]>
  ): void {
    const permission = EVENT_PERMISSIONS[event];
    if (!permission) throw new Error(`${event} is not a scoped event`);
    if (!unitIds.length) return;
    io.to(unitIds.map((id) => grantRoom(permission, id))).emit(event, ...args);
  }

  /** Disconnects sockets on every instance (the adapter broadcasts), telling them why first. */
  const endRooms = (rooms: string[], reason: SessionEndReason) => {
    if (!rooms.length) return;
    io.to(rooms).emit('session:ended', { reason });
    io.in(rooms).disconnectSockets(true);
  };

  // Sessions can also vanish without an event (expired rows swept, another
  // instance without a shared bus, a database restore): check every local socket.
  // One pass at a time: a pass still running when the next is due skips that one.
  let rechecking = false;
  const recheckAll = () =>
    recheckPass(
      [...io.sockets.sockets.values()],
      async (socket) => {
        if (!socket.connected) return;
        const ctx = await sessionOfSocket(socket);
        if (closed || !socket.connected) return;
        const was = socket.data.auth;
        if (!ctx) endSocket(socket, 'expired');
        else if (ctx.user.role !== was.user.role || ctx.orgUnit.id !== was.orgUnit.id) endSocket(socket, 'changed');
      },
      { log, what: 'realtime session', stopped: () => closed },
    );
  const recheck = setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    void recheckAll()
      .catch((err: unknown) => log.error('realtime session re-check failed', { err: String(err) }))
      .finally(() => {
        rechecking = false;
      });
  }, deps.recheckMs ?? 30_000);
  recheck.unref();

  const stopResync = deps.fanout
    ? resyncAfterOutages(deps.fanout, now, (alertsAfter) => {
        // To every socket on every instance (no scope: a cursor value only): each replays what it may have missed.
        io.emit('realtime:resync', { alertsAfter });
      })
    : () => {};

  const offs = [
    deps.bus.on('session.ended', ({ tokenHashes, userIds, reason }) => {
      endRooms([...tokenHashes.map(sessionRoom), ...userIds.map(userRoom)], reason);
    }),
    deps.bus.on('camera.changed', ({ kind, camera }) => {
      send('camera:changed', unitsFor(camera.orgPath), {
        kind,
        id: camera.id,
        camera: kind === 'deleted' ? null : deps.cameras.toView(camera),
      });
    }),
    deps.bus.on('camera.imported', ({ perPath }) => {
      // Each unit hears only the points created inside its own subtree, and only those units.
      const perUnit = new Map<string, { created: number; units: Set<number> }>();
      for (const { path, created } of perPath) {
        const ids = unitsFor(path);
        const leaf = Number(ids[ids.length - 1]);
        for (const id of ids) {
          const acc = perUnit.get(id) ?? { created: 0, units: new Set<number>() };
          acc.created += created;
          acc.units.add(leaf);
          perUnit.set(id, acc);
        }
      }
      for (const [id, acc] of perUnit)
        send('registry:imported', [id], { created: acc.created, orgUnitIds: [...acc.units] });
    }),
    deps.bus.on('scan.progress', ({ scan }) => {
      send('scan:progress', unitsFor(scan.orgPath), scanView(scan));
    }),
    deps.bus.on('scan.device', ({ device, orgPath }) => {
      send('scan:device', unitsFor(orgPath), deviceView(device));
    }),
    deps.bus.on('stream.state', ({ orgPath, event }) => {
      send('stream:state', unitsFor(orgPath), event);
    }),
    deps.bus.on('camera.status', (e) => {
      send('camera:status', unitsFor(e.orgPath), {
        id: e.id,
        status: e.to,
        reason: e.reason,
        lastSeenAt: e.lastSeenAt,
        at: e.at,
      });
    }),
    // The alert is already stored: a client that misses this push replays it from GET /alerts?since=.
    deps.bus.on('alert.changed', ({ kind, orgPath, alert }) => {
      send(kind === 'new' ? 'alert:new' : 'alert:updated', unitsFor(orgPath), alert);
    }),
    deps.bus.on('order.changed', ({ kind, orgPath, order }) => {
      send(kind === 'new' ? 'order:new' : 'order:updated', unitsFor(orgPath), order);
    }),
    deps.bus.on('order.supervise', ({ event, unitIds }) => {
      send('order:supervise', unitIds, event);
    }),
    // Only the target unit's own screens: its villages do not get the township's wall.
    deps.bus.on('wall.push', ({ event }) => {
      send('wall:push', [event.targetOrgUnitId], event);
    }),
    deps.bus.on('wall.changed', ({ orgPath, screen }) => {
      send('wall:updated', unitsFor(orgPath), screen);
    }),
    deps.bus.on('quality.changed', ({ orgPath, event }) => {
      send('quality:changed', unitsFor(orgPath), event);
    }),
  ];
  return {
    io,
    close: () => {
      closed = true;
      clearInterval(recheck);
      stopResync();
      for (const off of offs) off();
      return new Promise<void>((resolve) => void io.close(() => resolve()));
    },
  };
}

/** How far before a reported outage pushes may already have failed (a publish fails after up to 500 ms). */
export const RESYNC_MARGIN_MS = 5_000;

/**
 * Pushes lost to a fan-out outage, found again (issue 13). While Redis is away each process still pushes to its
 * own sockets, but the others' sockets stay connected and miss those pushes; a reconnect replay never happens
 * for them. So: the alert cursor is sampled every second; when the fan-out reports trouble, the cursor as it
 * was RESYNC_MARGIN_MS earlier is remembered, and when Redis answers again every socket of the cluster is told
 * to replay from there. A client replays from the lower of that and its own cursor; the replay is idempotent.
 */
export function resyncAfterOutages(
  fanout: { onHealth(listener: (up: boolean) => void): void; alertCursor(): Promise<number> },
  now: () => number,
  announce: (alertsAfter: number) => void,
): () => void {
  const samples: { at: number; seq: number }[] = [];
  const sample = () => {
    const at = now();
    fanout.alertCursor().then(
      (seq) => {
        samples.push({ at, seq });
        while (samples.length > 1 && samples[1]!.at <= now() - RESYNC_MARGIN_MS) samples.shift();
      },
      () => undefined, // the database is closing
    );
  };
  sample();
  const timer = setInterval(sample, 1_000);
  timer.unref();
  let pending: number | null = null;
  let stopped = false;
  fanout.onHealth((up) => {
    if (stopped) return;
    if (!up) {
      // The newest sample taken at least the margin ago (the oldest one when the process is younger).
      const cut = now() - RESYNC_MARGIN_MS;
      // No sample yet (the first read has not come back): from the start, which replays more but loses nothing.
      const before = [...samples].reverse().find((x) => x.at <= cut) ?? samples[0] ?? { seq: 0 };
      pending = Math.min(pending ?? before.seq, before.seq);
    } else if (pending !== null) {
      const after = pending;
      pending = null;
      announce(after);
    }
  });
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

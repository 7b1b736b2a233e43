import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../api/contract.ts';
import type { AuthContext, AuthService } from '../auth/index.ts';
import type { CameraService } from '../cameras/service.ts';
import { deviceView, scanView } from '../discovery/repo.ts';
import type { EventBus } from '../events.ts';

export { connectRedisFanout, type RedisFanout } from './redis.ts';

interface SocketData {
  auth: AuthContext;
}

/** Room of everyone whose jurisdiction includes org unit `id`. */
const orgRoom = (id: number | string) => `org:${id}`;

/** Every room that must hear about a record at `orgPath`: the unit itself and all its ancestors. */
export function roomsFor(orgPath: string): string[] {
  return orgPath.split('/').filter(Boolean).map(orgRoom);
}

/**
 * Socket.IO with the session cookie (or a bearer token in `auth.token`).
 * A socket joins only the room of its user's own org unit; events are sent
 * to the rooms of the record's org unit and its ancestors, so a township
 * hears its own villages and the county hears everything.
 */
export function attachRealtime(
  http: HttpServer,
  deps: {
    auth: AuthService;
    bus: EventBus;
    cameras: CameraService;
    /** A cluster adapter (Redis Streams) so several processes share rooms; in-process when absent. */
    adapter?: ServerOptions['adapter'];
  },
) {
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(http, {
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
  });
  io.use((socket, next) => {
    const fromAuth: unknown = socket.handshake.auth['token'];
    const token = typeof fromAuth === 'string' ? fromAuth : deps.auth.tokenFrom({ headers: socket.handshake.headers });
    const ctx = token ? deps.auth.resolveToken(token) : undefined;
    if (!ctx) return next(new Error('unauthorized'));
    socket.data.auth = ctx;
    next();
  });
  io.on('connection', (socket) => {
    void socket.join(orgRoom(socket.data.auth.orgUnit.id));
    socket.on('session:whoami', (ack) => {
      if (typeof ack !== 'function') return;
      const ctx = socket.data.auth;
      ack({ ok: true, data: deps.auth.sessionUser(ctx.user, ctx.orgUnit) });
    });
  });
  const offs = [
    deps.bus.on('camera.changed', ({ kind, camera }) => {
      io.to(roomsFor(camera.orgPath)).emit('camera:changed', {
        kind,
        id: camera.id,
        camera: kind === 'deleted' ? null : deps.cameras.toView(camera),
      });
    }),
    deps.bus.on('camera.imported', ({ created, orgPaths }) => {
      // Each room hears only the units inside its own subtree.
      const perRoom = new Map<string, Set<number>>();
      for (const path of orgPaths) {
        const ids = path.split('/').filter(Boolean);
        const unit = Number(ids[ids.length - 1]);
        for (const room of roomsFor(path)) {
          const set = perRoom.get(room) ?? new Set<number>();
          set.add(unit);
          perRoom.set(room, set);
        }
      }
      for (const [room, ids] of perRoom)
        io.to(room).emit('registry:imported', { created: ids.size ? created : 0, orgUnitIds: [...ids] });
    }),
    deps.bus.on('scan.progress', ({ scan }) => {
      io.to(roomsFor(scan.orgPath)).emit('scan:progress', scanView(scan));
    }),
    deps.bus.on('scan.device', ({ device, orgPath }) => {
      io.to(roomsFor(orgPath)).emit('scan:device', deviceView(device));
    }),
    deps.bus.on('stream.state', ({ orgPath, event }) => {
      io.to(roomsFor(orgPath)).emit('stream:state', event);
    }),
    deps.bus.on('camera.status', (e) => {
      io.to(roomsFor(e.orgPath)).emit('camera:status', {
        id: e.id,
        status: e.to,
        reason: e.reason,
        lastSeenAt: e.lastSeenAt,
        at: e.at,
      });
    }),
    // The alert is already stored: a client that misses this push replays it from GET /alerts?since=.
    deps.bus.on('alert.changed', ({ kind, orgPath, alert }) => {
      io.to(roomsFor(orgPath)).emit(kind === 'new' ? 'alert:new' : 'alert:updated', alert);
    }),
    deps.bus.on('order.changed', ({ kind, orgPath, order }) => {
      io.to(roomsFor(orgPath)).emit(kind === 'new' ? 'order:new' : 'order:updated', order);
    }),
    deps.bus.on('order.supervise', ({ event, unitIds }) => {
      io.to(unitIds.map(orgRoom)).emit('order:supervise', event);
    }),
    // Only the target unit's own screens: its villages do not get the township's wall.
    deps.bus.on('wall.push', ({ event }) => {
      io.to(orgRoom(event.targetOrgUnitId)).emit('wall:push', event);
    }),
    deps.bus.on('wall.changed', ({ orgPath, screen }) => {
      io.to(roomsFor(orgPath)).emit('wall:updated', screen);
    }),
  ];
  return {
    io,
    close: () => {
      for (const off of offs) off();
      return new Promise<void>((resolve) => void io.close(() => resolve()));
    },
  };
}

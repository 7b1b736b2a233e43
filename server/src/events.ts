import { EventEmitter } from 'node:events';
import type {
  AlertView,
  CameraStatus,
  OrderSuperviseEvent,
  QualityChangedEvent,
  SessionEndReason,
  StreamStateEvent,
  WallPushEvent,
  WallScreenView,
  WorkOrderView,
} from './api/contract.ts';
import type { CameraPoint } from './cameras/repo.ts';
import type { DiscoveredDevice, ScanJob } from './discovery/repo.ts';

/**
 * The in-process domain event bus. It is not the socket contract: the
 * realtime module decides what of this reaches which clients.
 */
export interface DomainEvents {
  'camera.changed': { kind: 'created' | 'updated' | 'deleted'; camera: CameraPoint };
  /** A CSV import: how many points were created under each org unit path (a receiver hears only its subtree's). */
  'camera.imported': { created: number; orgUnitIds: number[]; perPath: { path: string; created: number }[] };
  'scan.progress': { scan: ScanJob };
  'scan.device': { device: DiscoveredDevice; orgPath: string };
  'stream.state': { orgPath: string; event: StreamStateEvent };
  /** A device started or stopped pushing RTMP to a point (health turns it into the point's status). */
  'ingest.publish': { cameraId: number; orgPath: string; live: boolean; address: string };
  /** A health check changed a point's status (the alerts module turns offline into an alert). */
  'camera.status': {
    id: number;
    orgPath: string;
    from: CameraStatus;
    to: CameraStatus;
    reason: string | null;
    at: string;
    lastSeenAt: string | null;
  };
  /** A health check saw a point's video (every time, not only on a change): waiting relays retry at once. */
  'camera.seen': { id: number };
  /** An alert was stored (new) or changed (folded repeat, action); pushed only after it is stored. */
  'alert.changed': { kind: 'new' | 'updated'; orgPath: string; alert: AlertView };
  /** A work order was created or took a step; heard by the place's unit and every unit above it. */
  'order.changed': { kind: 'new' | 'updated'; orgPath: string; order: WorkOrderView };
  /** 督办: heard by the unit that has the overdue order and its parent only. */
  'order.supervise': { event: OrderSuperviseEvent; unitIds: number[] };
  /** 视频质量诊断: a point's picture quality changed (realtime sends 'quality:changed' to its unit and above). */
  'quality.changed': { orgPath: string; event: QualityChangedEvent };
  /** 视频调度: heard by the target unit only. */
  'wall.push': { event: WallPushEvent };
  /** A wall screen's layout was saved (realtime sends 'wall:updated' to its unit and the units above). */
  'wall.changed': { orgPath: string; screen: WallScreenView };
  /**
   * Sessions ended (logout, revocation, password change, disabled account):
   * realtime disconnects their sockets at once, on every instance.
   */
  'session.ended': { tokenHashes: string[]; userIds: number[]; reason: SessionEndReason };
}

export interface EventBus {
  emit<K extends keyof DomainEvents>(name: K, payload: DomainEvents[K]): void;
  on<K extends keyof DomainEvents>(name: K, fn: (payload: DomainEvents[K]) => void): () => void;
}

export function createEventBus(onError: (err: unknown) => void): EventBus {
  const ee = new EventEmitter();
  ee.setMaxListeners(100);
  return {
    emit(name, payload) {
      // A failing listener must not fail the request that caused the event.
      for (const fn of ee.listeners(name)) {
        try {
          (fn as (p: typeof payload) => void)(payload);
        } catch (err) {
          onError(err);
        }
      }
    },
    on(name, fn) {
      ee.on(name, fn);
      return () => ee.off(name, fn);
    },
  };
}

/**
 * 证据片段 — the evidence clip of an alert (issue 14): made pending for each of the alert's cameras that records,
 * cut into its own MP4 once its end is recorded, and kept as long as its alert or the work order made of it
 * lives ("a work order carries the clip of its alert, kept as long as the order is"). Once neither exists
 * (removed, or expired by their own retention) the recording pass deletes the row, then the file. Part of the
 * keeping side (`service.ts` runs it in its pass); no SQL here.
 */
import type { AlertView } from '../api/contract.ts';
import type { CameraRepo } from '../cameras/repo.ts';
import type { Clock, Logger } from '../http/logger.ts';
import { WHOLE_REGISTRY } from '../org/scope.ts';
import { recorderKey, type RecordingConfig } from './common.ts';
import type { RecordingEngine } from './engine.ts';
import type { ClipRow, RecordingRepo } from './repo.ts';

export interface EvidenceClipDeps {
  repo: RecordingRepo;
  cameras: CameraRepo;
  clock: Clock;
  log: Logger;
  config: RecordingConfig;
}

const clipPath = (clip: Pick<ClipRow, 'alertId' | 'cameraId'>) => `clips/alert-${clip.alertId}-cam${clip.cameraId}.mp4`;

export function createEvidenceClips(deps: EvidenceClipDeps) {
  const { repo, cameras, clock, log, config } = deps;
  const nowMs = () => clock.now().getTime();

  async function cut(eng: RecordingEngine, clip: ClipRow): Promise<void> {
    const segs = await repo.segments(WHOLE_REGISTRY, clip.cameraId, clip.startMs, clip.endMs);
    if (!segs.length) {
      await repo.finishClip(clip.id, {
        status: 'failed',
        reason: 'no recording in this range',
        path: null,
        bytes: null,
      });
      return;
    }
    const offset = Math.max(0, (clip.startMs - segs[0]!.startMs) / 1000);
    const duration = (clip.endMs - Math.max(clip.startMs, segs[0]!.startMs)) / 1000;
    try {
      const r = await eng.exportMp4(
        segs.map((s) => s.path),
        offset,
        duration,
        config.maxExportMb * 1024 * 1024,
        clipPath(clip),
      );
      await repo.finishClip(clip.id, { status: 'ready', reason: null, path: clipPath(clip), bytes: r.bytes });
    } catch (err) {
      await repo.finishClip(clip.id, {
        status: 'failed',
        reason: String((err as Error).message ?? err),
        path: null,
        bytes: null,
      });
    }
  }

  return {
    /** A new alert: a pending evidence clip for each of its cameras that records. */
    async onAlert(engine: RecordingEngine, alert: AlertView): Promise<void> {
      const at = Date.parse(alert.firstAt);
      const before = config.clipBeforeSeconds[alert.level] * 1000;
      const after = config.clipAfterSeconds[alert.level] * 1000;
      const ids = [...new Set([alert.cameraId, ...alert.linkedCameraIds].filter((x): x is number => x !== null))];
      const recording = new Set(engine.keys());
      for (const id of ids.slice(0, 8)) {
        const c = await cameras.byId(WHOLE_REGISTRY, id);
        if (!c) continue;
        const has =
          recording.has(recorderKey(id)) ||
          (await repo.segments(WHOLE_REGISTRY, id, at - before, at + after)).length > 0;
        if (!has) continue;
        await repo.addClip({
          alertId: alert.id,
          cameraId: id,
          orgPath: c.orgPath,
          startMs: at - before,
          endMs: at + after,
          createdAt: clock.now().toISOString(),
        });
      }
    },

    /** A work order made of an alert holds its clips from now on, even once the alert is gone. */
    async onOrder(alertId: number, orderId: number): Promise<void> {
      await repo.linkClipsToOrder(alertId, orderId);
    },

    /** Clips whose end is recorded (the segment holding it has closed) are cut into their own file. */
    async cutDue(eng: RecordingEngine): Promise<void> {
      const due = await repo.dueClips(nowMs() - (config.segmentSeconds + 3) * 1000);
      for (const clip of due) await cut(eng, clip);
    },

    /**
     * Deletes the clips neither their alert nor their work order holds: the row first (a crash in between
     * leaves a file that `removeOrphans` finds at the next start, never a row without its file being sought),
     * then the file; a file already gone is no error.
     */
    async release(eng: RecordingEngine): Promise<number> {
      await repo.linkClipsToOrders();
      let released = 0;
      for (;;) {
        const batch = await repo.releasedClips(200);
        for (const clip of batch) {
          await repo.deleteClip(clip.id);
          if (clip.path)
            await eng
              .removeClip(clip.path)
              .catch((err: unknown) => log.warn('clip removal failed', { path: clip.path, err: String(err) }));
        }
        released += batch.length;
        if (batch.length < 200) break;
      }
      if (released) log.info('evidence clips released', { released });
      return released;
    },

    /** At start-up: clip files no row names (a crash between row and file, rows a cascade dropped) are removed. */
    async removeOrphans(eng: RecordingEngine): Promise<void> {
      const named = await repo.clipPaths();
      for (const rel of await eng.clipFiles()) if (!named.has(rel)) await eng.removeClip(rel);
    },
  };
}

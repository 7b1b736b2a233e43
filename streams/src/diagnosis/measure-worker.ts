/**
 * The measures of a sample, off the main thread. The server's event loop also carries the relays' media (the
 * source proxy) and serves their playlists: measuring a sample there (tens of milliseconds of pixel loops,
 * several hundred on a loaded machine, fourteen samples at once) held that loop for seconds and the relays
 * stalled (issue 16's benchmark: event-loop delay p99 1.7 s during a sweep against 36 ms without one).
 */
import { parentPort } from 'node:worker_threads';
import { measureSample, splitYuv444, type SceneSignature } from './measures.ts';
import { judgePicture, type QualityThresholds } from './judge.ts';

export interface MeasureRequest {
  id: number;
  width: number;
  height: number;
  /** One yuv444p picture each, transferred. */
  pictures: ArrayBuffer[];
  reference: SceneSignature | null;
  thresholds: QualityThresholds;
}

parentPort?.on('message', (m: MeasureRequest) => {
  try {
    const cpu = process.threadCpuUsage();
    const frames = m.pictures.map((b) => splitYuv444(new Uint8Array(b), m.width, m.height));
    const { measures, signature } = measureSample(frames, m.reference);
    const kinds = judgePicture(measures, m.thresholds);
    const used = process.threadCpuUsage(cpu);
    parentPort!.postMessage({ id: m.id, measures, signature, kinds, cpuMs: (used.user + used.system) / 1000 });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: String((err as Error).message) });
  }
});

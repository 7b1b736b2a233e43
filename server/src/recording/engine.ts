/**
 * What the recording service needs of the media plane (streams/ recorder), so tests and a remote worker can
 * stand in. `streamsRecordingEngine` adapts streams/'s recorder to it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, statfs, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import {
  buildExportArgs,
  concatList,
  createRecorder,
  type MediaLogger,
  type Recorder,
  type RecorderEngine,
  type SourceProxy,
} from '../../../streams/src/index.ts';
import type { RelaySourceInput } from '../relay/engine.ts';

export interface RecordedFile {
  key: string;
  /** Relative to the recording root: what the index stores. */
  rel: string;
  startMs: number;
  endMs: number;
  bytes: number;
}

export interface ExportResult {
  /** Absolute path of the MP4 written. */
  path: string;
  bytes: number;
  /** The size cap cut it short. */
  capped: boolean;
}

export interface RecordingEngine {
  start(key: string, input: RelaySourceInput): Promise<void>;
  stop(key: string): Promise<void>;
  keys(): string[];
  state(key: string): { state: string; reason: string | null } | undefined;
  onSegment(fn: (f: RecordedFile) => void): () => void;
  /** At start-up: orphans killed, cut segments repaired or dropped, every segment on disk listed. */
  recover(): Promise<{ segments: RecordedFile[]; repaired: number; dropped: number; killed: number }>;
  remove(rel: string): Promise<void>;
  /** Removes one evidence clip (`clips/…`); a file already gone is no error, and its folder stays. */
  removeClip(rel: string): Promise<void>;
  /** Every evidence clip file on disk, as relative paths (`clips/…`): start-up finds those without a row. */
  clipFiles(): Promise<string[]>;
  /** Absolute path of a stored relative path (null when it would leave the root). */
  resolve(rel: string): string | null;
  /** Free bytes on the recording disk. */
  freeBytes(): Promise<number>;
  /**
   * Segments (relative paths, oldest first) joined into one MP4 by copy: from `offsetSec` into the first for
   * `durationSec`, at most `maxBytes`. `outRel` keeps it under the root (an evidence clip); otherwise it is a
   * temporary file the caller removes with `discard`.
   */
  exportMp4(
    rels: string[],
    offsetSec: number,
    durationSec: number,
    maxBytes: number,
    outRel?: string,
  ): Promise<ExportResult>;
  discard(p: string): Promise<void>;
  close(): Promise<void>;
}

/** Where evidence clips live under the recording root. */
export const CLIPS = 'clips';

export interface StreamsRecordingEngineOptions {
  ffmpegPath: string;
  /** Default 'native' (`RecorderEngine`). */
  engine?: RecorderEngine;
  rootDir: string;
  segmentSeconds: number;
  proxy?: SourceProxy;
  log?: MediaLogger;
}

export function streamsRecordingEngine(opts: StreamsRecordingEngineOptions): RecordingEngine & { recorder: Recorder } {
  const root = path.resolve(opts.rootDir);
  mkdirSync(root, { recursive: true });
  // Downloads are written here first: a server killed mid-download leaves only this directory, removed at start.
  const tmpRoot = path.join(root, '.exports');
  rmSync(tmpRoot, { recursive: true, force: true });
  mkdirSync(tmpRoot, { recursive: true });
  const recorder = createRecorder({
    ffmpegPath: opts.ffmpegPath,
    ...(opts.engine ? { engine: opts.engine } : {}),
    rootDir: root,
    segmentSeconds: opts.segmentSeconds,
    ...(opts.proxy ? { proxy: opts.proxy } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const toFile = (s: { key: string; rel: string; startMs: number; endMs: number; bytes: number }): RecordedFile => ({
    key: s.key,
    rel: s.rel,
    startMs: s.startMs,
    endMs: s.endMs,
    bytes: s.bytes,
  });
  return {
    recorder,
    start: (key, input) =>
      recorder.start(key, {
        url: input.url,
        credentials: input.credentials,
        codec: input.codec,
        audio: 'none',
        rtspTransport: input.rtspTransport,
        ...(input.preferTransport ? { preferTransport: input.preferTransport } : {}),
      }),
    stop: (key) => recorder.stop(key),
    keys: () => recorder.keys(),
    state(key) {
      const s = recorder.status(key);
      return s ? { state: s.state, reason: s.reason ?? null } : undefined;
    },
    onSegment: (fn) => recorder.on('segment', (s) => fn(toFile(s))),
    async recover() {
      const r = await recorder.recover();
      return {
        segments: r.segments.map(toFile),
        repaired: r.repaired.length,
        dropped: r.dropped.length,
        killed: r.killed.length,
      };
    },
    async remove(rel) {
      await recorder.remove(rel);
    },
    async removeClip(rel) {
      // Not recorder.remove: that prunes a run folder left without segments, which clips/ always is.
      const abs = path.resolve(root, rel);
      if (abs.startsWith(path.join(root, CLIPS) + path.sep)) await rm(abs, { force: true });
    },
    async clipFiles() {
      const names = await readdir(path.join(root, CLIPS)).catch(() => [] as string[]);
      return names.filter((n) => n.endsWith('.mp4')).map((n) => `${CLIPS}/${n}`);
    },
    resolve: (rel) => recorder.resolve(rel),
    async freeBytes() {
      const s = await statfs(root);
      return s.bavail * s.bsize;
    },
    async exportMp4(rels, offsetSec, durationSec, maxBytes, outRel) {
      const files = rels.map((r) => {
        const abs = recorder.resolve(r);
        if (!abs) throw new Error('segment outside the recording root');
        return abs;
      });
      const work = await mkdtemp(path.join(tmpRoot, 'x-'));
      const list = path.join(work, 'list.txt');
      await writeFile(list, concatList(files));
      const tmpOut = path.join(work, 'out.mp4');
      const args = buildExportArgs({ listFile: list, offsetSec, durationSec, out: tmpOut, maxBytes });
      try {
        await new Promise<void>((resolve, reject) => {
          execFile(opts.ffmpegPath, args, { timeout: 120_000, maxBuffer: 1024 * 1024 }, (err, _o, stderr) =>
            err
              ? reject(new Error(`export failed: ${String(stderr).trim().split('\n').at(-1) ?? err.message}`))
              : resolve(),
          );
        });
        const bytes = (await stat(tmpOut)).size;
        let out = tmpOut;
        if (outRel) {
          const abs = recorder.resolve(outRel);
          if (!abs) throw new Error('clip path outside the recording root');
          mkdirSync(path.dirname(abs), { recursive: true });
          await rename(tmpOut, abs);
          out = abs;
          await rm(work, { recursive: true, force: true });
        }
        return { path: out, bytes, capped: bytes >= maxBytes * 0.98 };
      } catch (err) {
        await rm(work, { recursive: true, force: true });
        throw err;
      }
    },
    async discard(p) {
      if (p.startsWith(tmpRoot + path.sep)) await rm(path.dirname(p), { recursive: true, force: true });
    },
    close: () => recorder.close(),
  };
}

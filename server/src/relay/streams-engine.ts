/**
 * The server's view of the media plane: adapts streams/'s HLS relay to the
 * RelayEngine interface the relay service uses. Built by main.ts (and by
 * tests that want real ffmpeg).
 */
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  createHlsRelay,
  isExecutableFile,
  resolveFfmpeg,
  validateSourceUrl,
  type HlsRelay,
  type RelayStatus,
} from '../../../streams/src/index.ts';
import type { AppConfig } from '../config/schema.ts';
import type { Logger } from '../http/logger.ts';
import type { RelayEngine, RelayEngineStatus } from './engine.ts';

const WHITELIST: Record<string, string> = {
  'rtmp:': 'rtmp,tcp',
  'http:': 'http,tcp',
  'https:': 'https,http,tcp,tls',
  'rtsp:': 'rtsp,rtp,tcp,udp',
  'rtsps:': 'rtsp,rtp,tcp,udp,tls',
};

/** ffprobe arguments that name the first video stream's codec of `url` (checked beforehand). */
export function buildCodecProbeArgs(url: string): string[] {
  const scheme = new URL(url).protocol;
  const wl = WHITELIST[scheme];
  if (!wl) throw new Error(`unsupported scheme ${scheme}`);
  // A second of probing: with ffprobe's default 5 s, a source without audio (an RTMP push from a body-worn
  // camera) kept it waiting for a second stream for 4.3 s (1.0 s with this, measured against the ingest).
  // prettier-ignore
  return ['-v', 'error', '-protocol_whitelist', wl, '-analyzeduration', '1000000', '-probesize', '1000000', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-i', url];
}

/** Whether this ffmpeg's full help mentions an option (cheap capability check, once at start). */
export function ffmpegKnows(ffmpegPath: string, option: string): boolean {
  try {
    return execFileSync(ffmpegPath, ['-hide_banner', '-h', 'full'], {
      encoding: 'utf8',
      timeout: 10_000,
      maxBuffer: 16 * 1024 * 1024,
    }).includes(option);
  } catch {
    return false;
  }
}

/** The ffmpeg the platform uses: configured, the system's, else the one shipped in an npm package. */
export function platformFfmpeg(configured: string | null): string | null {
  const r = resolveFfmpeg({
    configured,
    env: process.env,
    exists: isExecutableFile,
    cwd: path.resolve(import.meta.dirname, '../../..'),
  });
  return r.ok ? r.path : null;
}

function toStatus(s: RelayStatus): RelayEngineStatus {
  return {
    state: s.state,
    reason: s.reason ?? null,
    restarts: s.restarts,
    fps: s.fps ?? null,
    bitrateKbps: s.bitrateKbps ?? null,
    dir: s.dir,
  };
}

export interface StreamsEngine extends RelayEngine {
  relay: HlsRelay;
  cleanupOrphans(): ReturnType<HlsRelay['cleanupOrphans']>;
}

export function createStreamsEngine(config: AppConfig['relay'], log: Logger, instance = 'default'): StreamsEngine {
  const ffmpeg = resolveFfmpeg({
    configured: config.ffmpegPath,
    env: process.env,
    exists: isExecutableFile,
    cwd: path.resolve(import.meta.dirname, '../../..'),
  });
  if (!ffmpeg.ok) throw new Error(ffmpeg.error);
  const ffprobe = ffmpeg.path.replace(/ffmpeg$/, 'ffprobe');
  const legacyFfmpeg = !ffmpegKnows(ffmpeg.path, 'stats_period');
  if (legacyFfmpeg)
    log.warn('ffmpeg predates 4.4; relay progress is reported at its default pace', { ffmpeg: ffmpeg.path });
  const relay = createHlsRelay({
    ffmpegPath: ffmpeg.path,
    instance,
    ...(config.hlsDir ? { rootDir: `${config.hlsDir}/${instance}` } : {}),
    idleTimeoutMs: config.idleTimeoutSeconds * 1000,
    segmentSeconds: config.segmentSeconds,
    listSize: config.listSize,
    maxTranscodes: config.maxTranscodes,
    legacyFfmpeg,
    log: {
      debug: (msg, f) => log.debug(msg, f),
      info: (msg, f) => log.info(msg, f),
      warn: (msg, f) => log.warn(msg, f),
      error: (msg, f) => log.error(msg, f),
    },
  });
  return {
    relay,
    acquire: async (key, input) => {
      await relay.acquire(key, { url: input.url, codec: input.codec, audio: 'unknown' });
    },
    probeCodec: (url) =>
      new Promise((resolve) => {
        const checked = validateSourceUrl(url);
        if (!checked.ok) return resolve('unknown');
        execFile(ffprobe, buildCodecProbeArgs(checked.url), { timeout: 5000, maxBuffer: 64 * 1024 }, (err, stdout) => {
          const c = err ? '' : stdout.trim().split('\n')[0];
          resolve(c === 'h264' ? 'h264' : c === 'hevc' ? 'h265' : 'unknown');
        });
      }),
    touch: (key) => void relay.touch(key),
    waitForPlaylist: (key, timeoutMs) =>
      relay.waitForPlaylist(key, timeoutMs).then(
        () => true,
        () => false,
      ),
    status: (key) => {
      const s = relay.status(key);
      return s ? toStatus(s) : undefined;
    },
    onState: (fn) =>
      relay.on('state', (e) => {
        const s = relay.status(e.key);
        fn(
          e.key,
          s
            ? toStatus({ ...s, ...e })
            : {
                state: e.state,
                reason: e.reason ?? null,
                restarts: e.restarts,
                fps: e.fps ?? null,
                bitrateKbps: e.bitrateKbps ?? null,
                dir: '',
              },
        );
      }),
    snapshot: (key) => relay.snapshot(key, 5000),
    stop: (key) => relay.stop(key),
    stopAll: () => relay.stopAll(),
    cleanupOrphans: () => relay.cleanupOrphans(),
  };
}

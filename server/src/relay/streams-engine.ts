/**
 * The server's view of the media plane: adapts streams/'s HLS relay to the
 * RelayEngine interface the relay service uses. Built by main.ts (and by
 * tests that want real ffmpeg).
 */
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  createHlsRelay,
  createSourceProxy,
  hasUserinfo,
  isExecutableFile,
  resolveFfmpeg,
  validateSourceUrl,
  type HlsRelay,
  type RelayStatus,
  type SourceProxy,
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

/**
 * ffmpeg arguments that make it probe `url` (checked beforehand) and print what it found, then stop: no
 * output file is named, so ffmpeg lists the input's streams on stderr and exits. ffmpeg itself, not ffprobe
 * (issue 12): the npm-shipped fallback (4.1) has no ffprobe, and detection then silently said "unknown", so
 * H.265 over RTMP or HTTP was copied to players that cannot decode it.
 */
export function buildCodecProbeArgs(url: string): string[] {
  const scheme = new URL(url).protocol;
  const wl = WHITELIST[scheme];
  if (!wl) throw new Error(`unsupported scheme ${scheme}`);
  if (hasUserinfo(url)) throw new Error('refusing to probe a URL with credentials in it (argv is readable)');
  // A second of probing: with the default 5 s, a source without audio (an RTMP push from a body-worn
  // camera) kept the probe waiting for a second stream for 4.3 s (1.0 s with this, measured against the ingest).
  // prettier-ignore
  return ['-hide_banner', '-nostdin', '-protocol_whitelist', wl, '-analyzeduration', '1000000', '-probesize', '1000000', '-i', url];
}

/** The first video stream's codec in ffmpeg's description of an input (`Stream #0:0: Video: hevc (Main) …`). */
export function codecFromProbe(stderr: string): 'h264' | 'h265' | 'unknown' {
  const m = /Stream #\d+:\d+[^:\n]*: Video: ([\w-]+)/.exec(stderr);
  const c = m?.[1]?.toLowerCase();
  return c === 'h264' ? 'h264' : c === 'hevc' || c === 'h265' ? 'h265' : 'unknown';
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
    retryInMs: s.retryInMs ?? null,
    dir: s.dir,
  };
}

export interface StreamsEngine extends RelayEngine {
  relay: HlsRelay;
  proxy: SourceProxy;
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
  const proxy = createSourceProxy({
    log: {
      debug: (msg, f) => log.debug(msg, f),
      info: (msg, f) => log.info(msg, f),
      warn: (msg, f) => log.warn(msg, f),
      error: (msg, f) => log.error(msg, f),
    },
  });
  /** Probes still running: ended at shutdown, so none outlives the server (issue 12). */
  const probes = new Set<ReturnType<typeof execFile>>();
  let closed = false;
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
    proxy,
    log: {
      debug: (msg, f) => log.debug(msg, f),
      info: (msg, f) => log.info(msg, f),
      warn: (msg, f) => log.warn(msg, f),
      error: (msg, f) => log.error(msg, f),
    },
  });
  return {
    relay,
    proxy,
    acquire: async (key, input) => {
      await relay.acquire(key, {
        url: input.url,
        credentials: input.credentials,
        codec: input.codec,
        audio: 'unknown',
        rtspTransport: input.rtspTransport,
        ...(input.preferTransport ? { preferTransport: input.preferTransport } : {}),
        ...(input.rtspHeaders ? { rtspHeaders: input.rtspHeaders } : {}),
        ...(input.fromFirstPacket ? { fromFirstPacket: true } : {}),
      });
    },
    probeCodec: async (url, credentials) => {
      const checked = validateSourceUrl(url);
      if (!checked.ok || closed) return 'unknown';
      // With credentials the probe reads through the source proxy too: no password on its command line.
      const ep =
        credentials && /^https?:/.test(checked.url) ? await proxy.open({ url: checked.url, credentials }) : null;
      try {
        return await new Promise((resolve) => {
          if (closed) return resolve('unknown');
          const child = execFile(
            ffmpeg.path,
            buildCodecProbeArgs(ep?.url ?? checked.url),
            { timeout: 5000, maxBuffer: 256 * 1024 },
            // Exit status 1 is expected: no output file was named. What matters is the stream list.
            (_err, _stdout, stderr) => {
              probes.delete(child);
              resolve(codecFromProbe(String(stderr)));
            },
          );
          probes.add(child);
        });
      } finally {
        ep?.close();
      }
    },
    retryNow: (key) => relay.retryNow(key),
    onTransport: (fn) => relay.onTransport(fn),
    onSourcePlaying: (fn) => relay.onSourcePlaying(fn),
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
                retryInMs: e.retryInMs ?? null,
                dir: '',
              },
        );
      }),
    live: (key) => relay.live(key),
    snapshot: (key) => relay.snapshot(key, 5000),
    stop: (key) => relay.stop(key),
    stopAll: () => relay.stopAll(),
    close: async () => {
      closed = true;
      for (const p of probes) p.kill('SIGKILL');
      await relay.close();
      await proxy.close();
    },
    cleanupOrphans: () => relay.cleanupOrphans(),
  };
}

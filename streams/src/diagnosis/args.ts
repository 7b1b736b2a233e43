/**
 * ffmpeg arguments of one picture sample: a camera's stream in; a few pictures out on stdout, scaled to the
 * analysis size as planar YUV 4:4:4, and one JPEG thumbnail to a file. Pure, tested as a table.
 */
import path from 'node:path';
import { WHITELIST, hasUserinfo, validateSourceUrl } from '../args.ts';
import { ANALYSIS_HEIGHT, ANALYSIS_WIDTH } from './measures.ts';

export interface SampleInput {
  /**
   * Checked here with `validateSourceUrl`. Never `user:pass@` (issue 12: a command line is readable by every
   * local user): a camera with credentials is sampled through the loopback source proxy, which holds them.
   */
  url: string;
  /** RTSP only; default tcp. */
  rtspTransport?: 'tcp' | 'udp';
  /** ffmpeg before 5 names RTSP's socket timeout `-stimeout`. */
  legacyFfmpeg?: boolean;
}

export interface SampleOutput {
  /** Pictures analysed; at `fps`, so the sample spans (pictures − 1) / fps seconds. */
  pictures: number;
  fps: number;
  /** Absolute path of the JPEG thumbnail ffmpeg writes. */
  thumbnailPath: string;
  thumbnailWidth: number;
}

const num = (n: number) => String(Number(n.toFixed(3)));

/** Socket I/O timeout inside ffmpeg (the caller also kills it at its own deadline). */
const IO_TIMEOUT_US = '5000000';

export function buildSampleArgs(input: SampleInput, out: SampleOutput): string[] {
  const checked = validateSourceUrl(input.url);
  if (!checked.ok) throw new Error(`refusing source URL: ${checked.reason}`);
  if (hasUserinfo(checked.url))
    throw new Error('refusing source URL: it carries credentials, which would show in argv');
  if (!path.isAbsolute(out.thumbnailPath) || /[\x00-\x1f\x7f]/.test(out.thumbnailPath))
    throw new Error('thumbnail path must be absolute, without control characters');
  if (!Number.isInteger(out.pictures) || out.pictures < 1 || out.pictures > 50)
    throw new Error('pictures must be 1–50');
  if (!(out.fps > 0 && out.fps <= 30)) throw new Error('fps must be in (0, 30]');
  const { url, scheme } = checked;
  const rtsp = scheme === 'rtsp' || scheme === 'rtsps';
  const thumbW = Math.max(64, Math.min(1280, Math.round(out.thumbnailWidth / 2) * 2));
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-protocol_whitelist', WHITELIST[scheme],
    ...(rtsp
      ? ['-rtsp_transport', input.rtspTransport ?? 'tcp', input.legacyFfmpeg ? '-stimeout' : '-timeout', IO_TIMEOUT_US]
      : ['-rw_timeout', IO_TIMEOUT_US]),
    // Up to 2 s of probing: a session joins mid-GOP and the SPS/PPS come with the next keyframe; on a loaded
    // machine half a second ended the probe without them ("could not find codec parameters").
    '-analyzeduration', '2000000', '-probesize', '2000000',
    // One decoding thread: a sub stream's pictures are small and only a few seconds of them are decoded, so
    // frame threads (cores + 1 by default) cost their start-up and hand-offs and give nothing back; a whole
    // sweep's samples run side by side anyway (measured: the same CPU on a 480×270 sub stream, 12 % less on
    // 720p). Keyframes only (`-skip_frame nokey`) was measured too and not taken: see streams/README.md.
    '-threads', '1',
    '-i', url,
    '-an', '-sn', '-dn',
    // The pictures measured: at least 1/fps apart, one size for every camera, planar so planes split by offset.
    // `select` and passthrough timing, not the fps filter: after a stall fps repeats the last picture to fill
    // the time, and repeated pictures are what a frozen camera sends.
    '-filter_threads', '1',
    '-map', '0:v:0',
    '-vf', `select='isnan(prev_selected_t)+gte(t-prev_selected_t,${num(1 / out.fps)})',scale=${ANALYSIS_WIDTH}:${ANALYSIS_HEIGHT}:flags=area,format=yuv444p`,
    '-vsync', 'passthrough',
    '-frames:v', String(out.pictures),
    '-f', 'rawvideo', 'pipe:1',
    // The picture a technician looks at in the fault list.
    '-map', '0:v:0',
    '-vf', `scale=${thumbW}:-2`,
    '-frames:v', '1', '-q:v', '6',
    '-f', 'image2', '-update', '1', out.thumbnailPath,
  ];
}

/**
 * ffmpeg argument lists of the recorder (录像), built by pure functions and tested as tables like `../args.ts`.
 * Nothing here spawns, reads the clock or touches the disk.
 *
 * Recording is always a copy (issue 14: H.265 is recorded as H.265, never re-encoded): a camera's picture
 * costs one demux and one mux, ~1 % of a core with ffmpeg. RTSP points are recorded in process by default
 * (`native/`, ~0.35 %); these arguments serve the 'ffmpeg' engine, and repair and export for both.
 */
import path from 'node:path';
import { hasUserinfo, inputArgs, type RelayInput } from '../args.ts';

/** The index file the segment muxer appends one `name,start,end` line to as each segment closes. */
export const SEGMENT_LIST = 'list.csv';
/** Segment names inside one run directory. */
export const RECORD_SEGMENT_PATTERN = 'seg_%06d.ts';
export const RECORD_SEGMENT_FILE = /^seg_(\d{6,})\.ts$/;

export interface RecordOutputSpec {
  /** Absolute directory of this run (one per ffmpeg process): segments and `list.csv`. */
  dir: string;
  /** Target segment length; cuts fall on the next keyframe after it. */
  segmentSeconds: number;
  legacyFfmpeg?: boolean;
}

const num = (n: number) => String(Number(n.toFixed(3)));
const noControl = (p: string) => !/[\x00-\x1f\x7f]/.test(p);

/**
 * One recorder: a camera stream in (through the loopback source proxy: no credentials on argv), MPEG-TS
 * segments of `segmentSeconds` out, each closed segment listed in `list.csv` with its start and end.
 *
 * MPEG-TS, not fragmented MP4: a TS file cut short by a kill is still readable up to its last whole packet
 * (fMP4 loses the fragment being written and an MP4 without its index is unreadable), TS segments go into an
 * HLS VOD playlist as they are, and the concat demuxer joins them for an MP4 download without re-encoding.
 * Audio is dropped: cameras send G.711, which MPEG-TS cannot carry without re-encoding.
 */
export function buildRecordArgs(input: RelayInput, output: RecordOutputSpec): string[] {
  if (!path.isAbsolute(output.dir) || !noControl(output.dir)) throw new Error('record dir must be absolute');
  if (!(output.segmentSeconds >= 1 && output.segmentSeconds <= 600)) throw new Error('segmentSeconds out of range');
  if (hasUserinfo(input.url)) throw new Error('refusing source URL: it carries credentials, which would show in argv');
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'warning', '-nostdin', '-y',
    '-progress', 'pipe:1', ...(output.legacyFfmpeg ? [] : ['-stats_period', '1']),
    ...inputArgs(input, output.legacyFfmpeg === true),
    '-map', '0:v:0', '-c:v', 'copy', '-an',
    '-f', 'segment',
    '-segment_time', num(output.segmentSeconds),
    '-segment_format', 'mpegts',
    // Each packet reaches the file as it arrives: a kill loses nothing buffered, and the file's mtime is the
    // wall-clock time of its last packet (the index reads segment times from it).
    '-segment_format_options', 'flush_packets=1',
    '-segment_list', path.join(output.dir, SEGMENT_LIST),
    '-segment_list_type', 'csv',
    '-segment_start_number', '0',
    path.join(output.dir, RECORD_SEGMENT_PATTERN),
  ];
}

/**
 * Repairs a segment a kill cut short: copies what is readable into a clean TS at `dst` and reports its
 * media duration on stdout (`-progress`), so the caller learns how long it is without ffprobe.
 */
export function buildRepairArgs(src: string, dst: string): string[] {
  for (const p of [src, dst]) {
    if (!path.isAbsolute(p) || !noControl(p)) throw new Error('repair paths must be absolute');
  }
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-protocol_whitelist', 'file',
    '-err_detect', 'ignore_err', '-i', src,
    '-map', '0:v:0', '-c', 'copy', '-f', 'mpegts',
    '-progress', 'pipe:1',
    dst,
  ];
}

/** The concat demuxer's list of segment files (quoted as the demuxer reads them). */
export function concatList(files: readonly string[]): string {
  return files
    .map((f) => {
      if (!path.isAbsolute(f) || !noControl(f)) throw new Error('concat entries must be absolute paths');
      return `file '${f.replace(/'/g, "'\\''")}'\n`;
    })
    .join('');
}

export interface ExportSpec {
  /** The concat list (`concatList`) naming the segments, oldest first. */
  listFile: string;
  /** Seconds from the first segment's start to where the export begins (cut at the keyframe before). */
  offsetSec: number;
  durationSec: number;
  /** Absolute path of the MP4 written. */
  out: string;
  /** Stop once the file reaches this many bytes (size cap of a download). */
  maxBytes: number;
}

/** Recorded segments to one MP4, copied (never re-encoded), index at the front so it plays while downloading. */
export function buildExportArgs(spec: ExportSpec): string[] {
  for (const p of [spec.listFile, spec.out]) {
    if (!path.isAbsolute(p) || !noControl(p)) throw new Error('export paths must be absolute');
  }
  if (!(spec.offsetSec >= 0) || !(spec.durationSec > 0)) throw new Error('export range must be positive');
  if (!(spec.maxBytes > 0)) throw new Error('maxBytes must be positive');
  // prettier-ignore
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'concat', '-safe', '0', '-protocol_whitelist', 'file',
    ...(spec.offsetSec > 0 ? ['-ss', num(spec.offsetSec)] : []),
    '-i', spec.listFile,
    '-t', num(spec.durationSec),
    '-map', '0:v:0', '-c', 'copy',
    '-fs', String(Math.floor(spec.maxBytes)),
    '-movflags', '+faststart',
    '-f', 'mp4', spec.out,
  ];
}

export interface ListedSegment {
  name: string;
  /** Media time of the segment's start and end within its run, seconds. */
  start: number;
  end: number;
}

/** Lines of `list.csv` (`seg_000001.ts,6.000000,12.040000`); a torn last line is left out. */
export function parseSegmentList(text: string): ListedSegment[] {
  const out: ListedSegment[] = [];
  for (const line of text.split('\n')) {
    const m = /^(seg_\d{6,}\.ts),(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)\r?$/.exec(line);
    if (!m) continue;
    const start = Number(m[2]);
    const end = Number(m[3]);
    if (end > start) out.push({ name: m[1]!, start, end });
  }
  return out;
}

/** Duration (seconds) in ffmpeg's `-progress` output: the last `out_time_us` (or `out_time_ms`, also µs). */
export function progressDuration(text: string): number | null {
  let us: number | null = null;
  for (const m of text.matchAll(/^out_time_(?:us|ms)=(\d+)$/gm)) us = Number(m[1]);
  return us === null ? null : us / 1e6;
}

/** Reading HLS output: playlists, segment files, the codec inside an MPEG-TS segment. */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PLAYLIST_NAME, SEGMENT_FILE } from './args.ts';
import type { OutputHealth } from './supervisor.ts';

export interface PlaylistSegment {
  uri: string;
  duration: number;
}

export interface MediaPlaylist {
  mediaSequence: number;
  targetDuration?: number;
  segments: PlaylistSegment[];
  endList: boolean;
}

/** Parses a media playlist (what ffmpeg's hls muxer writes; tolerant of anything else). */
export function parsePlaylist(text: string): MediaPlaylist {
  const out: MediaPlaylist = { mediaSequence: 0, segments: [], endList: false };
  let duration: number | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      const [tag, value = ''] = line.split(/:(.*)/s, 2) as [string, string?];
      if (tag === '#EXT-X-MEDIA-SEQUENCE') out.mediaSequence = Number.parseInt(value, 10) || 0;
      else if (tag === '#EXT-X-TARGETDURATION') out.targetDuration = Number.parseFloat(value);
      else if (tag === '#EXTINF') duration = Number.parseFloat(value.split(',')[0] ?? '');
      else if (tag === '#EXT-X-ENDLIST') out.endList = true;
      continue;
    }
    out.segments.push({ uri: line, duration: Number.isFinite(duration) ? duration! : 0 });
    duration = undefined;
  }
  return out;
}

/** Number of a segment file name (`seg_00042.ts` → 42); null for anything else (including `.tmp`). */
export function segmentNumber(name: string): number | null {
  const m = SEGMENT_FILE.exec(name);
  return m ? Number(m[1]) : null;
}

/** Complete segment files in a directory, by number (numbers outgrow the 5-digit padding after ~27 h). */
export async function listSegments(dir: string): Promise<Array<{ name: string; n: number }>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: Array<{ name: string; n: number }> = [];
  for (const name of names) {
    const n = segmentNumber(name);
    if (n !== null) out.push({ name, n });
  }
  return out.sort((a, b) => a.n - b.n);
}

export async function readPlaylist(dir: string): Promise<MediaPlaylist | null> {
  try {
    return parsePlaylist(await readFile(path.join(dir, PLAYLIST_NAME), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Output health of one HLS directory: mtime of the newest complete segment (temp_file makes ffmpeg write
 * `seg_N.ts.tmp` and rename it when done) and the bitrate of what the playlist lists (ffmpeg reports N/A for
 * HLS). The bitrate is recomputed only when a new segment appeared.
 */
export function hlsOutputProbe(dir: string): () => Promise<OutputHealth> {
  let lastName: string | undefined;
  let lastMtime: number | null = null;
  let kbps: number | undefined;
  return async () => {
    const segs = await listSegments(dir);
    const newest = segs.at(-1);
    if (!newest) {
      lastName = undefined;
      lastMtime = null;
      kbps = undefined;
      return { lastOutputAt: null };
    }
    if (newest.name !== lastName) {
      try {
        lastMtime = (await stat(path.join(dir, newest.name))).mtimeMs;
        lastName = newest.name;
        kbps = await playlistBitrate(dir);
      } catch {
        // deleted by delete_segments meanwhile: judge on the next tick
      }
    }
    return { lastOutputAt: lastMtime, ...(kbps !== undefined ? { bitrateKbps: kbps } : {}) };
  };
}

/** Mean bitrate of the last (up to 3) listed segments, kbit/s. */
export async function playlistBitrate(dir: string): Promise<number | undefined> {
  const pl = await readPlaylist(dir);
  if (!pl) return undefined;
  let bytes = 0;
  let seconds = 0;
  for (const s of pl.segments.slice(-3)) {
    if (s.uri.includes('/') || s.duration <= 0) continue;
    try {
      bytes += (await stat(path.join(dir, s.uri))).size;
      seconds += s.duration;
    } catch {
      // rotated away
    }
  }
  return seconds > 0 ? Math.round((bytes * 8) / seconds / 1000) : undefined;
}

const TS = 188;

/** Elementary stream types listed in the first PMT of an MPEG-TS buffer (0x1b H.264, 0x24 H.265, 0x0f AAC). */
export function tsStreamTypes(buf: Buffer): number[] | null {
  let pmtPid: number | undefined;
  for (let off = 0; off + TS <= buf.length; off += TS) {
    if (buf[off] !== 0x47) return null; // not (aligned) MPEG-TS
    const pid = ((buf[off + 1]! & 0x1f) << 8) | buf[off + 2]!;
    const unitStart = (buf[off + 1]! & 0x40) !== 0;
    const afc = (buf[off + 3]! >> 4) & 3;
    if (!unitStart || !(afc & 1)) continue;
    let p = off + 4 + (afc & 2 ? 1 + buf[off + 4]! : 0);
    if (p >= off + TS) continue;
    p += 1 + buf[p]!; // pointer_field
    const end = off + TS;
    if (p + 3 > end) continue;
    const tableId = buf[p]!;
    const sectionEnd = Math.min(end, p + 3 + (((buf[p + 1]! & 0x0f) << 8) | buf[p + 2]!) - 4); // minus CRC
    if (pid === 0 && tableId === 0x00) {
      for (let q = p + 8; q + 4 <= sectionEnd; q += 4) {
        const program = (buf[q]! << 8) | buf[q + 1]!;
        if (program !== 0) {
          pmtPid = ((buf[q + 2]! & 0x1f) << 8) | buf[q + 3]!;
          break;
        }
      }
    } else if (pmtPid !== undefined && pid === pmtPid && tableId === 0x02) {
      const types: number[] = [];
      let q = p + 12 + (((buf[p + 10]! & 0x0f) << 8) | buf[p + 11]!);
      while (q + 5 <= sectionEnd) {
        types.push(buf[q]!);
        q += 5 + (((buf[q + 3]! & 0x0f) << 8) | buf[q + 4]!);
      }
      return types;
    }
  }
  return null;
}

/** Video codec of an MPEG-TS segment, from its PMT. */
export function tsVideoCodec(buf: Buffer): 'h264' | 'h265' | 'other' | null {
  const types = tsStreamTypes(buf);
  if (!types) return null;
  if (types.includes(0x1b)) return 'h264';
  if (types.includes(0x24)) return 'h265';
  return types.length ? 'other' : null;
}

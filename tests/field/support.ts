/** Helpers of the field-robustness tests (issue 12): playlists and segments as a player fetches them, ffprobe. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** The playlist a ticket names, as a player fetches it: segment names and the media sequence. */
export async function playlist(
  base: string,
  playlistUrl: string,
  token: string,
): Promise<{ status: number; segments: string[]; sequence: number; text: string }> {
  const r = await fetch(base + playlistUrl, bearer(token));
  const text = r.status === 200 ? await r.text() : '';
  return {
    status: r.status,
    segments: text.split('\n').filter((l) => l.endsWith('.ts')),
    sequence: Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? -1),
    text,
  };
}

/** Codec and size of a segment, decoded by ffprobe. */
export async function probeSegment(
  base: string,
  playlistUrl: string,
  segment: string,
  token: string,
): Promise<{ status: number; codec?: string; width?: number; height?: number }> {
  const r = await fetch(base + playlistUrl.replace('index.m3u8', segment), bearer(token));
  if (r.status !== 200) return { status: r.status };
  const dir = mkdtempSync(path.join(tmpdir(), 'ccc-seg-'));
  try {
    const file = path.join(dir, 'seg.ts');
    writeFileSync(file, Buffer.from(await r.arrayBuffer()));
    const out = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_streams', '-of', 'json', file], {
        encoding: 'utf8',
      }),
    ) as { streams: { codec_name: string; width: number; height: number }[] };
    const s = out.streams[0];
    return { status: 200, ...(s ? { codec: s.codec_name, width: s.width, height: s.height } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every process on the machine whose command line contains `text` (pid and argv). */
export function commandLinesContaining(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      continue;
    }
    if (argv.includes(text)) found.push(`${pid}: ${argv.replace(/\0/g, ' ').slice(0, 300)}`);
  }
  return found;
}

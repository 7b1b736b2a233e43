/**
 * The native writer judged by ffmpeg: pictures libx264 and libx265 encoded, sent as RTP the way cameras do
 * (single NAL units and fragments of 1,200 bytes), depacketized and written as segments, then decoded by
 * ffprobe: every picture there, at its time, in segments cut at keyframes and listed. Also with the parameter
 * sets only in the SDP (cameras that send them once, out of band): every segment still decodes on its own.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FFMPEG, FFPROBE, probeVideo, run } from '../../test-support.ts';
import { parseSegmentList } from '../args.ts';
import { RtpDepacketizer, nalType, paramKind, type AccessUnit } from './depacketize.ts';
import { SegmentWriter } from './segment-writer.ts';
import type { TsCodec } from './ts-mux.ts';

let base: string;
beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), 'ccc-native-writer-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The access units (Annex B NAL units, PTS) of an MPEG-TS file's video PID 0x100. */
function demux(file: string): Array<{ pts: number; nals: Buffer[] }> {
  const ts = readFileSync(file);
  const pes: Buffer[][] = [];
  for (let o = 0; o + 188 <= ts.length; o += 188) {
    const p = ts.subarray(o, o + 188);
    if ((((p[1]! & 0x1f) << 8) | p[2]!) !== 0x100) continue;
    let at = 4;
    if (p[3]! & 0x20) at = 5 + p[4]!;
    if (p[1]! & 0x40) pes.push([]);
    pes.at(-1)?.push(p.subarray(at));
  }
  return pes.map((parts) => {
    const b = Buffer.concat(parts);
    const pts = ((b[9]! >> 1) & 7) * 2 ** 30 + (b[10]! << 22) + ((b[11]! >> 1) << 15) + (b[12]! << 7) + (b[13]! >> 1);
    const es = b.subarray(9 + b[8]!);
    const nals: Buffer[] = [];
    let start = -1;
    for (let i = 0; i + 3 <= es.length; i++) {
      if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) {
        if (start >= 0) nals.push(es.subarray(start, es[i - 1] === 0 ? i - 1 : i));
        start = i + 3;
        i += 2;
      }
    }
    if (start >= 0) nals.push(es.subarray(start));
    return { pts, nals };
  });
}

/** One access unit as RTP packets (RFC 6184 / 7798): NAL units up to 1,200 bytes whole, larger ones in FUs. */
function packetize(codec: TsCodec, pt: number, seq0: number, ts: number, nals: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const payloads: Buffer[] = [];
  for (const nal of nals) {
    if (nal.length <= 1200) {
      payloads.push(nal);
      continue;
    }
    const head = codec === 'h264' ? 1 : 2;
    const type = nalType(codec, nal);
    const body = nal.subarray(head);
    for (let off = 0; off < body.length; off += 1200) {
      const flags = (off === 0 ? 0x80 : 0) | (off + 1200 >= body.length ? 0x40 : 0);
      const indicator =
        codec === 'h264'
          ? Buffer.from([(nal[0]! & 0xe0) | 28, flags | type])
          : Buffer.from([(nal[0]! & 0x81) | (49 << 1), nal[1]!, flags | type]);
      payloads.push(Buffer.concat([indicator, body.subarray(off, off + 1200)]));
    }
  }
  payloads.forEach((p, i) => {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = (i === payloads.length - 1 ? 0x80 : 0) | pt;
    h.writeUInt16BE((seq0 + i) & 0xffff, 2);
    h.writeUInt32BE(ts >>> 0, 4);
    out.push(Buffer.concat([h, p]));
  });
  return out;
}

async function encode(codec: TsCodec, file: string): Promise<void> {
  // prettier-ignore
  const enc = await run(FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=10:duration=6',
    ...(codec === 'h264'
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-bf', '0']
      : ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=10:min-keyint=10:bframes=0:log-level=error']),
    '-f', 'mpegts', file,
  ]);
  expect(enc.code, enc.stderr).toBe(0);
}

async function record(codec: TsCodec, paramsOutOfBand: boolean) {
  const src = path.join(base, `${codec}-${paramsOutOfBand}.ts`);
  await encode(codec, src);
  const aus = demux(src);
  expect(aus.length).toBe(60);
  const params: Buffer[] = [];
  if (paramsOutOfBand) {
    for (const au of aus) {
      au.nals = au.nals.filter((n) => {
        if (!paramKind(codec, nalType(codec, n))) return true;
        if (!params.some((p) => p.equals(n))) params.push(n);
        return false;
      });
    }
    expect(params.length).toBe(codec === 'h264' ? 2 : 3);
  }
  const dir = mkdtempSync(path.join(base, 'run-'));
  const errors: Error[] = [];
  const writer = new SegmentWriter({ dir, segmentSeconds: 2, codec, params, onError: (e) => errors.push(e) });
  const got: AccessUnit[] = [];
  const d = new RtpDepacketizer(codec, 96, (au) => {
    got.push(au);
    writer.accessUnit(au, 1_700_000_000_000 + got.length * 100);
  });
  // The camera's clock starts anywhere and wraps: RTP time is the PTS plus an offset near 2^32.
  let seq = 65_000;
  for (const au of aus) {
    const packets = packetize(codec, 96, seq, au.pts + 0xffff_0000, au.nals);
    seq += packets.length;
    for (const p of packets) d.push(p);
  }
  await writer.finish();
  expect(errors).toEqual([]);
  expect(got.length).toBe(60);
  return { dir, segments: parseSegmentList(readFileSync(path.join(dir, 'list.csv'), 'utf8')) };
}

async function packetTimes(file: string): Promise<number[]> {
  // prettier-ignore
  const r = await run(FFPROBE, ['-v', 'error', '-i', file, '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0']);
  return r.stdout
    .split('\n')
    .map((l) => l.replace(/,+$/, '').trim())
    .filter(Boolean)
    .map(Number);
}

describe('SegmentWriter against ffmpeg', () => {
  for (const codec of ['h264', 'h265'] as const) {
    for (const outOfBand of [false, true]) {
      it(`${codec}, parameter sets ${outOfBand ? 'only in the SDP' : 'in the stream'}: every picture decodes, at its time, in 2 s segments`, async () => {
        const { dir, segments } = await record(codec, outOfBand);
        // 6 s at 10 fps with a keyframe every second: cuts at 2 and 4 s, the last segment closed by finish().
        expect(segments.map((s) => [s.name, s.start, s.end])).toEqual([
          ['seg_000000.ts', 0, 2],
          ['seg_000001.ts', 2, 4],
          ['seg_000002.ts', 4, 6],
        ]);
        expect(readdirSync(dir).filter((f) => f.endsWith('.ts')).length).toBe(3);
        let frames = 0;
        for (const s of segments) {
          const file = path.join(dir, s.name);
          // Each segment decodes on its own (it starts at a keyframe with its parameter sets).
          const v = await probeVideo(file);
          expect(v).toMatchObject({ codec: codec === 'h264' ? 'h264' : 'hevc', width: 320, height: 180 });
          expect(v.frames).toBe(20);
          frames += v.frames;
          const times = await packetTimes(file);
          expect(times.length).toBe(20);
          // 1.4 s in, as ffmpeg's muxer starts; then every 0.1 s.
          times.forEach((t, i) => expect(t).toBeCloseTo(1.4 + s.start + i * 0.1, 3));
        }
        expect(frames).toBe(60);
      }, 60_000);
    }
  }
});

describe('SegmentWriter when the disk fails', () => {
  it('a full disk (ENOSPC) is reported once, nothing is listed, and finishing does not wait forever', async () => {
    const dir = mkdtempSync(path.join(base, 'full-'));
    // The first segment's file is /dev/full: every write to it fails with ENOSPC.
    symlinkSync('/dev/full', path.join(dir, 'seg_000000.ts'));
    const errors: Error[] = [];
    let finished: Promise<void> | undefined;
    const writer: SegmentWriter = new SegmentWriter({
      dir,
      segmentSeconds: 1,
      codec: 'h264',
      params: [],
      flushMs: 0,
      // As the recorder's child does: the error ends the recording at once.
      onError: (e) => {
        errors.push(e);
        finished = writer.finish();
      },
    });
    const idr = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(2000, 1)]);
    for (let i = 0; i < 50; i++) {
      const au: AccessUnit = {
        rtpTime: i * 9000,
        nals: [[idr]],
        keyframe: i % 5 === 0,
        hasParams: { vps: false, sps: false, pps: false },
        damaged: false,
      };
      // All at once: the file operations queue up behind the failing write (a burst after a stall).
      writer.accessUnit(au, 1_700_000_000_000 + i * 100);
    }
    await expect.poll(() => errors.length).toBe(1);
    await finished;
    await writer.finish();
    expect(errors.length).toBe(1);
    expect(errors[0]!.message).toMatch(/ENOSPC/);
    expect(existsSync(path.join(dir, 'list.csv'))).toBe(false);
    // Nothing was opened after the failure: only the first segment's name is there.
    expect(readdirSync(dir)).toEqual(['seg_000000.ts']);
  });
});

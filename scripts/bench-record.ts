/**
 * npm run bench:record — the recorder's cost (issue 14), real ffmpeg against the camera simulator:
 *   npm run bench:record       (BENCH_RECORD_POINTS=<n> points, default 20; BENCH_RECORD_GOPS=1 for one keyframe
 *                               interval only; BENCH_RECORD_ENGINE=ffmpeg for the copying ffmpeg instead of
 *                               the in-process writer; BENCH_RECORD_MERGE=0 for the camera's packets as they
 *                               came)
 *
 * Every figure is measured at each keyframe interval (GOP) in BENCH_RECORD_GOPS, default 1 s and 4 s (real cameras
 * use 2–4 s; a segment closes only at a keyframe), a fresh simulator and recorder each, and named `.gop1s` /
 * `.gop4s` (`record.cpu_per_stream.gop4s`):
 * - record.cpu_per_stream: % of one core per recorded point (copy into MPEG-TS segments), averaged over
 *   BENCH_RECORD_POINTS points (default 20; the issue's figure is 50: 1080p25 at ~4 Mbit/s) for 20 s: its
 *   share of this process, where the source proxy answers the camera, the recorder writes the segments
 *   (engine 'native', the default) and keeps its index, plus, with BENCH_RECORD_ENGINE=ffmpeg, its ffmpeg
 *   from /proc ticks.
 * - record.proxy_cpu_per_stream (this process) and, for ffmpeg, record.ffmpeg_cpu_per_stream: the parts.
 * - record.rss_per_stream: MB per point: what this process grew by (native), or each ffmpeg's resident memory.
 * - clip.export30s: seconds to cut a 30 s MP4 out of the recorded segments (concat demuxer, copy), median of 3;
 *   each result checked by ffprobe (30 ± 1 s).
 *
 * The simulator runs in a child process (not counted). Exits non-zero when a point records nothing (before the
 * window or during it) or an export is wrong, at either keyframe interval (the other still runs).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { claimLoopbackBlock } from './sim/addresses.ts';
import { defaultCameraSpecs, startSimulator } from './sim/index.ts';
import { buildExportArgs, concatList, createRecorder, type RecordedSegment } from '../streams/src/index.ts';
import { createSourceProxy } from '../streams/src/source-proxy.ts';

const FFMPEG = '/usr/bin/ffmpeg';
const { values } = parseArgs({
  options: { 'sim-child': { type: 'string' }, 'clip-dir': { type: 'string' }, gop: { type: 'string' } },
  strict: true,
});

function ticks(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return NaN;
  }
}
function rssMB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}
const load = () =>
  `load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`;
const bench = (name: string, v: number, unit: string, what: string) =>
  console.log(`BENCH ${name} ${v.toFixed(3)} ${unit}  # ${what}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every figure at one keyframe interval; returns whether it failed. */
async function measure(n: number, gop: number): Promise<boolean> {
  const tag = `gop${gop}s`;
  const work = mkdtempSync(path.join(tmpdir(), 'ccc-bench-record-'));
  const sim = spawn(
    process.execPath,
    [import.meta.filename, '--sim-child', String(n), '--clip-dir', path.join(work, 'clips'), '--gop', String(gop)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let failed = false;
  // BENCH_RECORD_MERGE=0: the camera's packets as they came, for comparison (rtp-merge.ts).
  const merge = process.env['BENCH_RECORD_MERGE'] !== '0';
  const proxy = createSourceProxy({ mergeFragments: merge });
  const engine = process.env['BENCH_RECORD_ENGINE'] === 'ffmpeg' ? 'ffmpeg' : 'native';
  const recorder = createRecorder({
    ffmpegPath: FFMPEG,
    rootDir: path.join(work, 'rec'),
    segmentSeconds: 6,
    proxy,
    engine,
  });
  try {
    const cams = await new Promise<Array<{ url: string; username: string; password: string }>>((resolve, reject) => {
      void (async () => {
        for await (const line of createInterface({ input: sim.stdout! })) return resolve(JSON.parse(line));
      })();
      sim.once('exit', (c) => reject(new Error(`simulator exited ${c}`)));
    });
    const segs: RecordedSegment[] = [];
    recorder.on('segment', (s) => segs.push(s));
    console.log(
      `# ${n} points, 1920x1080 25 fps ~4 Mbit/s H.264, GOP ${gop} s, 6 s segments, copy (${engine}), ${engine === 'ffmpeg' ? `fragments ${merge ? 'joined' : 'as sent'} for ffmpeg` : 'packets as they came, in process'}; ${load()}`,
    );
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < n; i++) {
      await recorder.start(`rec:${i}`, {
        url: cams[i]!.url,
        credentials: { username: cams[i]!.username, password: cams[i]!.password },
        codec: 'h264',
        audio: 'none',
      });
    }
    const until = Date.now() + 90_000;
    while (new Set(segs.map((s) => s.key)).size < n) {
      if (Date.now() > until) {
        const missing = [...Array(n).keys()].filter((i) => !segs.some((s) => s.key === `rec:${i}`));
        console.error(`GOP ${gop} s: points that recorded nothing in 90 s: ${missing.join(', ')}`);
        return true;
      }
      await sleep(500);
    }
    const pids = recorder
      .keys()
      .map((k) => recorder.status(k)?.pid)
      .filter((p): p is number => p !== undefined);
    if (engine === 'native' && pids.length) throw new Error('the native recorder started processes');
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    const before = new Map(pids.map((p) => [p, ticks(p)]));
    const segsBefore = segs.length;
    const ownBefore = process.cpuUsage();
    const t0 = performance.now();
    await sleep(20_000);
    const secs = (performance.now() - t0) / 1000;
    const selfCpu = process.cpuUsage(ownBefore);
    const alive = pids.filter((p) => Number.isFinite(ticks(p)));
    const cpu = alive.map((p) => ((ticks(p) - before.get(p)!) / hz / secs) * 100);
    const ffmpegShare = engine === 'ffmpeg' ? cpu.reduce((a, b) => a + b, 0) / cpu.length : 0;
    const proxyShare = ((selfCpu.user + selfCpu.system) / 1e6 / secs / n) * 100;
    // Every point closed a segment inside the window (6 s segments, 20 s): none stalled while measured.
    const inWindow = new Set(segs.slice(segsBefore).map((s) => s.key));
    const recording = engine === 'ffmpeg' ? alive.length : inWindow.size;
    const what = `${recording}/${n} points recording (${engine === 'ffmpeg' ? 'ffmpeg copy' : 'in-process copy'}) over ${secs.toFixed(0)} s, 1080p25 ~4 Mbit/s, GOP ${gop} s, ${load()}`;
    bench(
      `record.cpu_per_stream.${tag}`,
      ffmpegShare + proxyShare,
      '%',
      engine === 'ffmpeg' ? `ffmpeg + source proxy; ${what}` : `this process / ${n}; ${what}`,
    );
    if (engine === 'ffmpeg') bench(`record.ffmpeg_cpu_per_stream.${tag}`, ffmpegShare, '%', what);
    bench(
      `record.proxy_cpu_per_stream.${tag}`,
      proxyShare,
      '%',
      `this process (source proxy, recorder) / ${n}; ${what}`,
    );
    const rss =
      engine === 'ffmpeg'
        ? alive.reduce((a, p) => a + rssMB(p), 0) / alive.length
        : (process.memoryUsage().rss - rssBefore) / 1024 / 1024 / n;
    bench(
      `record.rss_per_stream.${tag}`,
      rss,
      'MB',
      engine === 'ffmpeg' ? what : `this process's growth / ${n}; ${what}`,
    );
    if (engine === 'ffmpeg' && alive.length < n) {
      console.error(`GOP ${gop} s: ${n - alive.length} of ${n} recording ffmpeg did not last the window`);
      failed = true;
    }
    if (inWindow.size < n) {
      console.error(`GOP ${gop} s: ${n - inWindow.size} of ${n} points closed no segment in the window`);
      failed = true;
    }

    // 30 s out of point 0's segments, starting 2 s into the first.
    while (segs.filter((s) => s.key === 'rec:0').reduce((a, s) => a + (s.endMs - s.startMs), 0) < 36_000)
      await sleep(500);
    const own = segs.filter((s) => s.key === 'rec:0').sort((a, b) => a.startMs - b.startMs);
    const list = path.join(work, 'list.txt');
    writeFileSync(list, concatList(own.map((s) => s.path)));
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = path.join(work, `clip${i}.mp4`);
      const start = performance.now();
      await new Promise<void>((resolve, reject) =>
        execFile(
          FFMPEG,
          buildExportArgs({ listFile: list, offsetSec: 2, durationSec: 30, out, maxBytes: 1e9 }),
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      times.push((performance.now() - start) / 1000);
      const d = Number(
        execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', out], {
          encoding: 'utf8',
        }),
      );
      if (!(Math.abs(d - 30) <= 1)) {
        console.error(`GOP ${gop} s: export ${i} lasts ${d} s, not 30`);
        failed = true;
      }
    }
    times.sort((a, b) => a - b);
    bench(
      `clip.export30s.${tag}`,
      times[1]!,
      's',
      `median of 3 cuts of 30 s 1080p (~15 MB) by concat copy while ${n} points record, GOP ${gop} s, ${load()}`,
    );
  } catch (err) {
    console.error(err);
    failed = true;
  } finally {
    await recorder.close();
    await proxy.close();
    sim.stdin!.end();
    await new Promise((r) => sim.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
  return failed;
}

async function main(): Promise<void> {
  const n = Number(process.env['BENCH_RECORD_POINTS'] ?? 20);
  let failed = false;
  for (const gop of (process.env['BENCH_RECORD_GOPS'] ?? '1,4').split(',').map(Number)) {
    if (await measure(n, gop)) failed = true;
  }
  process.exit(failed ? 1 : 0);
}

if (values['sim-child']) {
  const block = await claimLoopbackBlock();
  const sim = await startSimulator({
    cameras: defaultCameraSpecs(Number(values['sim-child']), { firstIp: block.host(1), seed: 5 }).map((s) => ({
      ...s,
      clockOffsetSec: 0,
      faults: {},
    })),
    clipDir: values['clip-dir']!,
    discovery: false,
    clipMode: 'shared',
    keyframeIntervalSec: Number(values.gop ?? 1),
    streamOverrides: {
      main: { width: 1920, height: 1080, fps: 25, bitrateKbps: 4096 },
      sub: { width: 640, height: 360, fps: 15 },
    },
  });
  process.stdout.write(
    JSON.stringify(sim.cameras.map((c) => ({ url: c.mainStreamUri, username: c.username, password: c.password }))) +
      '\n',
  );
  process.stdin.resume();
  process.stdin.on('end', () => void sim.stop().then(() => process.exit(0)));
} else {
  await main();
}

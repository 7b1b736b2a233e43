/**
 * Clip readiness over real loopback sockets and real ffmpeg: the shared placeholder clip that gives a first
 * frame at once, the switch of a live session to the camera's own clip, shared clip mode, and prewarm.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from './addresses.ts';
import { NICE, clipFileName, placeholderParams } from './clips.ts';
import { NAL, nalType, prepareStream, type H264Stream } from './h264.ts';
import {
  defaultCameraSpecs,
  spawnProcess,
  startSimulator,
  type RunProcess,
  type SimCameraInfo,
  type Simulator,
  type SimulatorOptions,
} from './index.ts';
import { accessUnitsOf, framesOf, RawRtsp, run, sleep } from './test-support.ts';

const FFMPEG = '/usr/bin/ffmpeg';
const SMALL = {
  main: { width: 320, height: 180, fps: 25, bitrateKbps: 400 },
  sub: { width: 160, height: 90, fps: 15, bitrateKbps: 150 },
};
const dirs: string[] = [];
const sims: Simulator[] = [];
const blocks: LoopbackBlock[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.stop()));
  await Promise.all(blocks.map((b) => b.release()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const freshDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'sim-clipmodes-'));
  dirs.push(d);
  return d;
};

interface Call {
  cmd: string;
  args: string[];
  pid?: number;
  /** The camera code drawn into the picture, if it is a camera's own clip or snapshot. */
  code?: string;
}

/**
 * Real ffmpeg behind the process seam, recording every call; encodes of the cameras in `hold` wait until
 * `release(code)` (the call itself, i.e. the encoder slot, is taken at once).
 */
function recordingRunner(codes: readonly string[], hold: readonly string[] = []) {
  const calls: Call[] = [];
  const gates = new Map(
    hold.map((c) => {
      let open!: () => void;
      const p = new Promise<void>((r) => (open = r));
      return [c, { p, open }] as const;
    }),
  );
  let running = 0;
  let peak = 0;
  let runningOwn = 0;
  let peakOwn = 0;
  const runProcess: RunProcess = (cmd, args) => {
    const code = codes.find((c) => args.some((a) => a.includes(`text='${c}'`)));
    const call: Call = { cmd, args, ...(code ? { code } : {}) };
    calls.push(call);
    running++;
    peak = Math.max(peak, running);
    if (code) peakOwn = Math.max(peakOwn, ++runningOwn);
    const gate = code ? gates.get(code) : undefined;
    let killed = false;
    let proc: ReturnType<RunProcess> | undefined;
    const start = () => {
      if (killed) throw new Error('killed');
      proc = spawnProcess(cmd, args);
      call.pid = proc.pid;
      return proc.done;
    };
    const done = (gate ? gate.p.then(start) : start()).finally(() => {
      running--;
      if (code) runningOwn--;
    });
    return {
      done,
      kill: () => {
        killed = true;
        proc?.kill();
        gate?.open();
      },
    };
  };
  return {
    runProcess,
    calls,
    /** Most ffmpeg at once: all kinds, and camera clips/snapshots only. */
    peak: () => ({ all: peak, own: peakOwn }),
    release: (code: string) => gates.get(code)?.open(),
  };
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A simulator whose cameras live on a block of this run's own (issue 12), whatever hosts their specs name. */
async function start(o: Partial<SimulatorOptions> & { cameras: SimulatorOptions['cameras'] }): Promise<Simulator> {
  const block = await claimLoopbackBlock();
  blocks.push(block);
  const sim = await startSimulator({
    onvifPort: 0,
    rtspPort: 0,
    discoveryPort: 0,
    discovery: false,
    clipDir: freshDir(),
    clipSeconds: 2,
    streamOverrides: SMALL,
    log: () => undefined,
    ...o,
    cameras: o.cameras.map((c, i) => ({ ...c, host: block.host(i + 1) })),
  });
  sims.push(sim);
  return sim;
}

const idrSlice = (nals: Buffer[]) => nals.find((n) => nalType(n) === NAL.IDR);
const firstIdr = (s: H264Stream) => idrSlice(s.aus.find((au) => au.idr)!.nals)!;

describe('idrOnConnect: instant first frame from the shared placeholder', () => {
  // Only cameras that hand a new session an IDR stream the placeholder; the others join their own timeline.
  const specs = defaultCameraSpecs(3).map((s) => ({ ...s, idrOnConnect: true }));
  const codes = specs.map((s) => s.code);
  const runner = recordingRunner(codes, codes);
  let sim: Simulator;
  let clipDir: string;
  const sub = (c: SimCameraInfo) => placeholderParams(c.resolvedStreams.sub, 15, 2);
  const own = (c: SimCameraInfo) =>
    readdirSync(clipDir).find((n) => n.startsWith(`${c.code}-sub-`) && n.endsWith('.h264'));

  it('encodes one placeholder per stream geometry before start resolves, and nothing per camera', async () => {
    clipDir = freshDir();
    sim = await start({ cameras: specs, clipDir, runProcess: runner.runProcess });
    expect(sim.stats()).toMatchObject({ encodes: 2, placeholderClips: 2, ffmpegRunning: 0 });
    expect(runner.calls.every((c) => !c.code && c.args.some((a) => a.includes("text='SIM'")))).toBe(true);
    expect(existsSync(path.join(clipDir, clipFileName(sub(sim.cameras[0]!))))).toBe(true);
  });

  it('streams the placeholder at once while the own clip encodes, then the same session moves to the own clip at a keyframe', async () => {
    const cam = sim.cameras[0]!;
    const c = await RawRtsp.connect(cam.host, cam.rtspPort);
    try {
      const { describe: d, play } = await c.play(cam.subStreamUri);
      expect([d.status, play.status]).toEqual([200, 200]);
      // The own clip's encoder is held back, so whatever arrives is the placeholder.
      await c.waitPackets(1, 3000);
      expect(c.packets.length).toBeGreaterThan(0);
      await waitFor('own clip encoder', () => runner.calls.some((x) => x.code === cam.code), 3000);
      expect(own(cam)).toBeUndefined();
      const placeholder = prepareStream(readFileSync(path.join(clipDir, clipFileName(sub(cam)))));
      expect(d.body).toContain(`sprop-parameter-sets=${placeholder.spropParameterSets}`);
      const early = accessUnitsOf(c.packets);
      expect(idrSlice(early[0]!.nals)!.equals(firstIdr(placeholder))).toBe(true);

      runner.release(cam.code);
      await waitFor('switch to the own clip', () => sim.stats().clipSwitches >= 1, 10_000);
      await sleep(700);
      const mine = prepareStream(readFileSync(path.join(clipDir, own(cam)!)));
      expect(mine.spropParameterSets).toBe(placeholder.spropParameterSets);
      const pk = c.packets;
      for (let i = 1; i < pk.length; i++) expect(pk[i]!.seq).toBe((pk[i - 1]!.seq + 1) & 0xffff);
      expect(pk.every((p) => p.ssrc === pk[0]!.ssrc)).toBe(true);
      const aus = accessUnitsOf(pk);
      // One picture per RTP timestamp, 1/15 s apart, rising straight through the switch.
      for (let i = 1; i < aus.length; i++) expect(aus[i]!.timestamp - aus[i - 1]!.timestamp).toBe(6000);
      const at = aus.findIndex((au) => idrSlice(au.nals)?.equals(firstIdr(mine)));
      expect(at).toBeGreaterThan(0);
      // SPS and PPS lead the switch picture (then x264's SEI, then the IDR slice).
      const types = aus[at]!.nals.map(nalType);
      expect(types.slice(0, 2)).toEqual([NAL.SPS, NAL.PPS]);
      expect(types.at(-1)).toBe(NAL.IDR);
      // Before it, only placeholder pictures; the switch lands where the placeholder had a keyframe due.
      expect(at % 15).toBe(0);
      // The encoder's first slice of each picture (the last one is the simulator's clock band).
      const slice0 = (nals: Buffer[]) => nals.find((n) => [NAL.IDR, NAL.SLICE].includes(nalType(n) as 1 | 5))!;
      const placeholderSlices = new Set(placeholder.aus.map((au) => slice0(au.nals).toString('base64')));
      expect(aus.slice(0, at).every((au) => placeholderSlices.has(slice0(au.nals).toString('base64')))).toBe(true);
      expect(aus.slice(at).every((au) => !placeholderSlices.has(slice0(au.nals).toString('base64')))).toBe(true);
    } finally {
      c.close();
    }
  });

  it('ffmpeg decodes 3 s across the switch without an error', async () => {
    const cam = sim.cameras[1]!;
    const switches = sim.stats().clipSwitches;
    const decoding = run(FFMPEG, [
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-i',
      cam.subStreamUri,
      '-t',
      '3',
      '-f',
      'null',
      '-',
    ]);
    await waitFor('own clip encoder', () => runner.calls.some((x) => x.code === cam.code), 5000);
    await sleep(800);
    expect(sim.stats().clipSwitches).toBe(switches);
    runner.release(cam.code);
    const r = await decoding;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(sim.stats().clipSwitches).toBe(switches + 1);
  });

  it('a camera whose own clip is ready streams it from the first frame', async () => {
    const cam = sim.cameras[0]!;
    const switches = sim.stats().clipSwitches;
    const c = await RawRtsp.connect(cam.host, cam.rtspPort);
    try {
      await c.play(cam.subStreamUri);
      await c.waitPackets(1, 3000);
      const mine = prepareStream(readFileSync(path.join(clipDir, own(cam)!)));
      expect(idrSlice(accessUnitsOf(c.packets)[0]!.nals)!.equals(firstIdr(mine))).toBe(true);
      expect(sim.stats().clipSwitches).toBe(switches);
    } finally {
      c.close();
    }
  });
});

describe('a camera that joins mid-GOP (no idrOnConnect) streams no placeholder', () => {
  it("sends nothing while its own clip encodes, then its own clip from the timeline's next keyframe", async () => {
    const specs = defaultCameraSpecs(1);
    const code = specs[0]!.code;
    const runner = recordingRunner([code], [code]);
    const clipDir = freshDir();
    const sim = await start({ cameras: specs, clipDir, runProcess: runner.runProcess });
    const cam = sim.cameras[0]!;
    const c = await RawRtsp.connect(cam.host, cam.rtspPort);
    try {
      const { describe: d, play } = await c.play(cam.subStreamUri);
      expect([d.status, play.status]).toEqual([200, 200]);
      await waitFor('own clip encoder', () => runner.calls.some((x) => x.code === code), 3000);
      // The placeholder is in memory, yet nothing comes: this camera has no picture of its own yet.
      await sleep(1500);
      expect(c.packets).toHaveLength(0);
      runner.release(code);
      await c.waitPackets(1, 10_000);
      await sleep(300);
      const first = framesOf(c.packets)[0]!;
      expect(first.idr).toBe(true);
      expect(first.clock!.frame % 15).toBe(0); // a keyframe of the 1 s GOP timeline
      const name = readdirSync(clipDir).find((n) => n.startsWith(`${code}-sub-`) && n.endsWith('.h264'))!;
      const mine = prepareStream(readFileSync(path.join(clipDir, name)));
      const pos = first.clock!.frame % mine.aus.length;
      expect(idrSlice(first.nals)!.equals(idrSlice(mine.aus[pos]!.nals)!)).toBe(true);
      expect(sim.stats().clipSwitches).toBe(0);
    } finally {
      c.close();
    }
  });
});

describe("clipMode 'shared'", () => {
  it('serves 50 cameras from one clip per geometry: first frames and snapshots, no per-camera encode', async () => {
    const specs = defaultCameraSpecs(50);
    const runner = recordingRunner(specs.map((s) => s.code));
    const clipDir = freshDir();
    const sim = await start({ cameras: specs, clipDir, clipMode: 'shared', runProcess: runner.runProcess });
    expect(sim.stats().encodes).toBe(2);
    const got = await Promise.all(
      sim.cameras.map(async (cam, i) => {
        const c = await RawRtsp.connect(cam.host, cam.rtspPort);
        try {
          const r = await c.play(i % 5 === 0 ? cam.mainStreamUri : cam.subStreamUri);
          await c.waitPackets(1, 5000);
          return r.play.status === 200 && c.packets.length > 0;
        } finally {
          c.close();
        }
      }),
    );
    expect(got.filter(Boolean)).toHaveLength(50);
    expect(sim.stats().encodes).toBe(2);
    for (const cam of sim.cameras.slice(0, 3)) {
      const res = await fetch(cam.snapshotUri);
      expect(res.status).toBe(200);
      expect(
        Buffer.from(await res.arrayBuffer())
          .subarray(0, 2)
          .toString('hex'),
      ).toBe('ffd8');
    }
    expect(sim.stats().encodes).toBe(3); // the one shared snapshot of the main geometry
    expect(runner.calls.filter((c) => c.code)).toEqual([]);
    const names = readdirSync(clipDir);
    expect(names.filter((n) => specs.some((s) => n.includes(s.code)))).toEqual([]);
    expect(names.filter((n) => n.endsWith('.h264'))).toHaveLength(2);
  });
});

describe('prewarm', () => {
  it('encodes every sub clip in the background, one at a time, under nice, and no main clip', async () => {
    const specs = defaultCameraSpecs(4);
    const runner = recordingRunner(specs.map((s) => s.code));
    const clipDir = freshDir();
    const sim = await start({ cameras: specs, clipDir, runProcess: runner.runProcess, prewarm: { stream: 'sub' } });
    const subClips = () => readdirSync(clipDir).filter((n) => /-sub-.*\.h264$/.test(n));
    await waitFor('4 sub clips', () => subClips().length === 4, 30_000);
    await waitFor('prewarm to settle', () => sim.stats().prewarmRunning === 0, 5000);
    expect(
      subClips()
        .map((n) => n.slice(0, 20))
        .sort(),
    ).toEqual(specs.map((s) => s.code).sort());
    expect(readdirSync(clipDir).filter((n) => /-main-.*\.h264$/.test(n))).toEqual([]);
    const prewarmed = runner.calls.filter((c) => c.code);
    expect(prewarmed).toHaveLength(4);
    if (existsSync(NICE)) {
      expect(prewarmed.every((c) => c.cmd === NICE && c.args.slice(0, 3).join(' ') === '-n 10 ffmpeg')).toBe(true);
    }
    expect(runner.peak()).toEqual({ all: 2, own: 1 }); // two placeholders together, then prewarm one at a time
    expect(sim.stats()).toMatchObject({ prewarmQueued: 0, prewarmRunning: 0, encodes: 6, ffmpegRunning: 0 });
  });

  it('stop() kills a prewarm encoder mid-way and leaves no ffmpeg child behind', async () => {
    const specs = defaultCameraSpecs(4);
    const runner = recordingRunner(specs.map((s) => s.code));
    const clipDir = freshDir();
    const sim = await start({
      cameras: specs,
      clipDir,
      runProcess: runner.runProcess,
      prewarm: true,
      clipSeconds: 4,
      streamOverrides: { main: { width: 1280, height: 720, fps: 25, bitrateKbps: 2048 }, sub: SMALL.sub },
    });
    // Sub clips go first; wait for a main clip encoder to be running.
    await waitFor(
      'a main clip encoder',
      () => runner.calls.some((c) => c.code && c.args.some((a) => a.includes('1280x720')) && c.pid),
      30_000,
    );
    const pids = runner.calls.map((c) => c.pid).filter((p): p is number => p !== undefined);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(runner.calls.at(-1)!.pid!)).toBe(true);
    await sim.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(readdirSync(clipDir).filter((n) => /-main-.*\.h264$/.test(n)).length).toBeLessThan(4);
    expect(readdirSync(clipDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // No child of this process is an ffmpeg (or a nice about to become one).
    const children = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map((n) => {
        try {
          const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
          const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
          return m ? { comm: m[1]!, ppid: Number(m[2]) } : undefined;
        } catch {
          return undefined;
        }
      })
      .filter((c) => c && c.ppid === process.pid && /ffmpeg|nice/.test(c.comm));
    expect(children).toEqual([]);
  });
});

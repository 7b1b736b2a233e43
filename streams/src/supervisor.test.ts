/** The supervisor on a fake clock and fake processes: states, backoff tiers, watchdog, generations, kills. */
import { describe, expect, it } from 'vitest';
import { createFakeClock, createFakeRunner, type FakeRunner } from './fakes.ts';
import type { ProcessRunner } from './process.ts';
import { createSupervisor, type StreamStateEvent, type SupervisorOptions } from './supervisor.ts';

function setup(over: Partial<SupervisorOptions> & { runner?: FakeRunner | ProcessRunner } = {}) {
  const clock = createFakeClock();
  const runner = (over.runner as FakeRunner | undefined) ?? createFakeRunner();
  const output = { lastOutputAt: null as number | null, bitrateKbps: undefined as number | undefined };
  const events: StreamStateEvent[] = [];
  let argCalls = 0;
  const sup = createSupervisor({
    name: 'cam1',
    command: 'ffmpeg',
    args: () => ['-i', 'rtsp://h/x', `call${++argCalls}`],
    runner,
    clock,
    checkOutput: async () => ({
      lastOutputAt: output.lastOutputAt,
      ...(output.bitrateKbps !== undefined ? { bitrateKbps: output.bitrateKbps } : {}),
    }),
    segmentSeconds: 1,
    ...over,
  });
  sup.on('state', (e) => events.push(e));
  /** A new segment is written now. */
  const segment = () => (output.lastOutputAt = clock.now());
  const states = () => events.map((e) => e.state);
  const last = () => runner.children.at(-1)!;
  return { clock, runner, output, events, sup, segment, states, last };
}

describe('supervisor', () => {
  it('is live only once output appears, not when the process starts', async () => {
    const t = setup();
    t.sup.start();
    expect(t.runner.children).toHaveLength(1);
    expect(t.last().args).toEqual(['-i', 'rtsp://h/x', 'call1']);
    await t.clock.advance(2_000);
    expect(t.states()).toEqual(['starting']);
    t.segment();
    await t.clock.advance(600);
    expect(t.states()).toEqual(['starting', 'live']);
    expect(t.sup.status()).toMatchObject({ state: 'live', phase: 'running', pid: t.last().pid, restarts: 0 });
    await t.sup.stop();
  });

  it('an exit before any output is an error with the last stderr line; retries back off in tiers, one process at a time', async () => {
    const t = setup();
    t.sup.start();
    const spawnTimes: number[] = [t.clock.now()];
    for (let i = 0; i < 7; i++) {
      t.last().writeStderr(
        '[tcp @ 0x1] Connection to tcp://10.0.0.9:554 failed\nrtsp://admin:pw@10.0.0.9/x: Connection refused\n',
      );
      t.last().exit({ code: 1 });
      const before = t.runner.children.length;
      while (t.runner.children.length === before) await t.clock.advance(100);
      spawnTimes.push(t.clock.now());
    }
    const gaps = spawnTimes.slice(1).map((v, i) => v - spawnTimes[i]!);
    // Each gap is the tier delay, rounded up to the 100 ms steps of the loop above.
    expect(gaps.map((g) => Math.ceil(g / 100) * 100)).toEqual([500, 1_000, 2_000, 5_000, 10_000, 30_000, 30_000]);
    expect(t.runner.peak()).toBe(1);
    expect(t.events[1]).toEqual({
      state: 'error',
      reason: 'rtsp://***@10.0.0.9/x: Connection refused',
      restarts: 0,
      retryInMs: 500,
    });
    // Every attempt is announced, with the wait before the next one (issue 12: it went silent while retrying).
    expect(t.events.slice(1).map((e) => [e.state, e.restarts, e.retryInMs])).toEqual([
      ['error', 0, 500],
      ['error', 1, 1_000],
      ['error', 2, 2_000],
      ['error', 3, 5_000],
      ['error', 4, 10_000],
      ['error', 5, 30_000],
      ['error', 6, 30_000],
    ]);
    expect(t.sup.status()).toMatchObject({ restarts: 7, state: 'error' });
    await t.sup.stop();
  });

  it('while someone watches no wait is longer than the cap; a stream once live stays "reconnecting"', async () => {
    let watched = true;
    const t = setup({ backoffCapMs: () => (watched ? 2_000 : undefined) });
    t.sup.start();
    t.segment();
    await t.clock.advance(500);
    const spawnTimes: number[] = [];
    for (let i = 0; i < 6; i++) {
      t.last().exit({ code: 1 });
      const before = t.runner.children.length;
      while (t.runner.children.length === before) await t.clock.advance(100);
      spawnTimes.push(t.clock.now());
    }
    expect(t.events.slice(2).map((e) => [e.state, e.retryInMs])).toEqual([
      ['reconnecting', 500],
      ['reconnecting', 1_000],
      ['reconnecting', 2_000],
      ['reconnecting', 2_000],
      ['reconnecting', 2_000],
      ['reconnecting', 2_000],
    ]);
    // Nobody watching any more: the long tiers again.
    watched = false;
    t.last().exit({ code: 1 });
    await t.clock.advance(0);
    expect(t.events.at(-1)).toMatchObject({ state: 'reconnecting', retryInMs: 30_000 });
    await t.sup.stop();
  });

  it('retryNow ends a wait at once; outside a wait it does nothing', async () => {
    const t = setup();
    t.sup.start();
    expect(t.sup.retryNow()).toBe(false);
    for (let i = 0; i < 6; i++) {
      t.last().exit({ code: 1 });
      const before = t.runner.children.length;
      while (t.runner.children.length === before) await t.clock.advance(100);
    }
    t.last().exit({ code: 1 });
    await t.clock.advance(0);
    expect(t.sup.status().phase).toBe('backoff');
    const n = t.runner.children.length;
    expect(t.sup.retryNow()).toBe(true);
    expect(t.runner.children).toHaveLength(n + 1);
    expect(t.sup.retryNow()).toBe(false);
    await t.sup.stop();
  });

  it("the caller's explanation of an exit wins over ffmpeg's last line; our own kills keep theirs", async () => {
    let why: string | undefined = 'connection refused by 10.0.0.9:554';
    const t = setup({ explainExit: () => why });
    t.sup.start();
    t.last().writeStderr('[rtsp @ 0x1] method OPTIONS failed: 503 Service Unavailable\n');
    t.last().exit({ code: 1 });
    await t.clock.advance(0);
    expect(t.events.at(-1)).toMatchObject({ state: 'error', reason: 'connection refused by 10.0.0.9:554' });
    why = undefined;
    await t.clock.advance(500);
    t.last().writeStderr('[rtsp @ 0x1] method OPTIONS failed: 503 Service Unavailable\n');
    t.last().exit({ code: 1 });
    await t.clock.advance(0);
    expect(t.events.at(-1)).toMatchObject({ reason: '[rtsp @ 0x1] method OPTIONS failed: 503 Service Unavailable' });
    await t.sup.stop();
  });

  it('a crash after going live is "reconnecting", then live again', async () => {
    const t = setup();
    t.sup.start();
    t.segment();
    await t.clock.advance(500);
    const first = t.last();
    first.exit({ signal: 'SIGKILL' });
    await t.clock.advance(0);
    expect(t.events.at(-1)).toMatchObject({ state: 'reconnecting', reason: 'ffmpeg killed by SIGKILL', restarts: 0 });
    await t.clock.advance(500);
    expect(t.runner.children).toHaveLength(2);
    // The old segment (older than the new process) does not count as output of the new one.
    await t.clock.advance(1_000);
    expect(t.states().at(-1)).toBe('reconnecting');
    t.segment();
    await t.clock.advance(500);
    expect(t.states()).toEqual(['starting', 'live', 'reconnecting', 'live']);
    expect(t.events.at(-1)!.restarts).toBe(1);
    await t.sup.stop();
  });

  it('kills a live process whose newest segment is older than max(3 × segment, 6 s) and restarts it', async () => {
    const t = setup();
    t.sup.start();
    t.segment();
    await t.clock.advance(500);
    await t.clock.advance(5_000);
    expect(t.last().signals).toEqual([]);
    await t.clock.advance(1_000);
    expect(t.runner.children[0]!.signals).toEqual(['SIGTERM']);
    expect(t.events.at(-1)).toMatchObject({ state: 'reconnecting', reason: expect.stringMatching(/^stale output/) });
    await t.clock.advance(500);
    expect(t.runner.children).toHaveLength(2);
    await t.sup.stop();
  });

  it('a segment held open by a long GOP is not stale while ffmpeg reports media moving on; stopped media is', async () => {
    const t = setup();
    t.sup.start();
    t.segment();
    await t.clock.advance(500);
    // 9 s without a new segment (an 8–10 s GOP), with out_time moving on every second.
    for (let s = 1; s <= 9; s++) {
      t.last().writeStdout(`out_time_us=${s * 1_000_000}\nprogress=continue\n`);
      await t.clock.advance(1_000);
    }
    expect(t.last().signals).toEqual([]);
    expect(t.states().at(-1)).toBe('live');
    // ffmpeg goes on reporting, but its output time stands still: nothing arrives.
    for (let s = 0; s < 7; s++) {
      t.last().writeStdout('out_time_us=9000000\nprogress=continue\n');
      await t.clock.advance(1_000);
    }
    expect(t.runner.children[0]!.signals).toEqual(['SIGTERM']);
    expect(t.events.at(-1)).toMatchObject({ state: 'reconnecting', reason: expect.stringMatching(/^stale output/) });
    await t.sup.stop();
  });

  it('honours a longer segment: 4 s segments go stale after 12 s', async () => {
    const t = setup({ segmentSeconds: 4 });
    t.sup.start();
    t.segment();
    await t.clock.advance(11_000);
    expect(t.last().signals).toEqual([]);
    await t.clock.advance(1_200);
    expect(t.runner.children[0]!.signals).toEqual(['SIGTERM']);
    await t.sup.stop();
  });

  it('sends SIGKILL to a process that ignores SIGTERM, after the grace period', async () => {
    const t = setup({ runner: createFakeRunner({ exitOn: ['SIGKILL'] }), killGraceMs: 2_000 });
    t.sup.start();
    const stopped = t.sup.stop();
    await t.clock.advance(1_900);
    expect(t.last().signals).toEqual(['SIGTERM']);
    expect(t.last().exited).toBe(false);
    await t.clock.advance(200);
    expect(t.last().signals).toEqual(['SIGTERM', 'SIGKILL']);
    await stopped;
    expect(t.states().at(-1)).toBe('stopped');
  });

  it('a process that writes nothing within the start timeout is killed and reported', async () => {
    const t = setup({ startTimeoutMs: 10_000 });
    t.sup.start();
    t.last().writeStderr('[rtsp @ 0x2] method DESCRIBE failed: 401 Unauthorized\n');
    await t.clock.advance(10_500);
    expect(t.runner.children[0]!.signals).toEqual(['SIGTERM']);
    expect(t.events.at(-1)).toMatchObject({
      state: 'error',
      reason: 'no output within 10 s: [rtsp @ 0x2] method DESCRIBE failed: 401 Unauthorized',
    });
    await t.sup.stop();
  });

  it('stop during backoff: the pending retry never spawns (generation)', async () => {
    const t = setup();
    t.sup.start();
    t.last().exit({ code: 1 });
    await t.clock.advance(100);
    expect(t.sup.status().phase).toBe('backoff');
    await t.sup.stop();
    await t.clock.advance(120_000);
    expect(t.runner.children).toHaveLength(1);
    expect(t.states()).toEqual(['starting', 'error', 'stopped']);
    expect(t.clock.pending()).toBe(0);
    expect(t.sup.retryNow()).toBe(false);
  });

  it('callbacks of an old process are ignored: late progress and exit after stop change nothing', async () => {
    const t = setup({ runner: createFakeRunner({ exitOn: [] }), killGraceMs: 1_000 });
    t.sup.start();
    t.segment();
    await t.clock.advance(500);
    const old = t.last();
    const stopped = t.sup.stop();
    old.writeStdout('fps=25.0\nbitrate=800.0kbits/s\nprogress=continue\n');
    await t.clock.advance(100);
    expect(t.sup.status().fps).toBeUndefined();
    old.exit({ code: 255 });
    await stopped;
    await t.clock.advance(60_000);
    expect(t.runner.children).toHaveLength(1);
    expect(t.states()).toEqual(['starting', 'live', 'stopped']);
  });

  it('resets the backoff after 60 s of running', async () => {
    const t = setup();
    t.sup.start();
    // Fail three times: next delay would be 5 s.
    for (let i = 0; i < 3; i++) {
      t.last().exit({ code: 1 });
      const n = t.runner.children.length;
      while (t.runner.children.length === n) await t.clock.advance(100);
    }
    t.segment();
    for (let i = 0; i < 130; i++) {
      t.segment();
      await t.clock.advance(500);
    }
    expect(t.sup.status().state).toBe('live');
    t.last().exit({ code: 0 });
    const n = t.runner.children.length;
    await t.clock.advance(600);
    expect(t.runner.children.length).toBe(n + 1);
    await t.sup.stop();
  });

  it('reads fps and bitrate from -progress, bitrate from the output when ffmpeg says N/A', async () => {
    const t = setup();
    t.sup.start();
    t.last().writeStdout('frame=10\nfps=9.5\nbitrate=N/A\nout_time_us=1000000\nprogress=continue\n');
    t.output.bitrateKbps = 812;
    t.segment();
    await t.clock.advance(600);
    expect(t.sup.status()).toMatchObject({ fps: 9.5, bitrateKbps: 812, outTimeMs: 1000 });
    t.last().writeStdout('fps=10.0\nbitrate=1500.2kbits/s\nout_time_us=2000000\nprogress=continue\n');
    await t.clock.advance(10);
    expect(t.sup.status()).toMatchObject({ fps: 10, bitrateKbps: 1500.2, outTimeMs: 2000 });
    await t.sup.stop();
  });

  it('keeps the last 50 stderr lines, credentials masked', async () => {
    const t = setup();
    t.sup.start();
    for (let i = 0; i < 60; i++) t.last().writeStderr(`line ${i} rtsp://admin:S3cr@t@10.0.0.1/x\n`);
    t.last().writeStderr('partial without newline');
    await t.clock.advance(10);
    const tail = t.sup.stderrTail();
    expect(tail).toHaveLength(50);
    expect(tail[0]).toBe('line 10 rtsp://***@10.0.0.1/x');
    expect(tail.join('\n')).not.toMatch(/S3cr/);
    t.last().exit({ code: 1 });
    await t.clock.advance(0);
    expect(t.sup.stderrTail().at(-1)).toBe('partial without newline');
    await t.sup.stop();
  });

  it('a spawn that throws is an error and is retried', async () => {
    let calls = 0;
    const fake = createFakeRunner();
    const runner: ProcessRunner = {
      spawn(cmd, args, o) {
        if (++calls === 1) throw new Error('spawn EACCES');
        return fake.spawn(cmd, args, o);
      },
    };
    const t = setup({ runner });
    t.sup.start();
    await t.clock.advance(0);
    expect(t.events.at(-1)).toMatchObject({ state: 'error', reason: 'ffmpeg could not start: spawn EACCES' });
    await t.clock.advance(500);
    expect(fake.children).toHaveLength(1);
    await t.sup.stop();
  });
});

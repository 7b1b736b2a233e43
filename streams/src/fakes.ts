/**
 * Fakes of the seams (clock, process runner) for unit tests here and in the server: backoff, watchdog and
 * idle timers run on `advance()`, processes exit when the test says so.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { TimerClock, TimerHandle } from './clock.ts';
import type { ChildHandle, ExitInfo, ProcessRunner } from './process.ts';

export interface FakeClock extends TimerClock {
  /** Runs every timer due within `ms`, in order, letting promises settle after each. */
  advance(ms: number): Promise<void>;
  /** Timers still pending. */
  pending(): number;
}

export function createFakeClock(start = 1_700_000_000_000): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Map<object, { at: number; seq: number; fn: () => void }>();
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  };
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const h = {};
      timers.set(h, { at: now + Math.max(0, ms), seq: seq++, fn });
      return h;
    },
    clearTimeout(h: TimerHandle | undefined) {
      if (h) timers.delete(h);
    },
    pending: () => timers.size,
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        let next: [object, { at: number; seq: number; fn: () => void }] | undefined;
        for (const e of timers) {
          if (e[1].at > target) continue;
          if (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq)) next = e;
        }
        if (!next) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
        await settle();
      }
      now = target;
      await settle();
    },
  };
}

export interface FakeChild extends ChildHandle {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly signals: NodeJS.Signals[];
  readonly exited: boolean;
  /** Ends the process: stdout/stderr close, then 'exit'. */
  exit(info?: Partial<ExitInfo>): void;
  writeStderr(text: string): void;
  writeStdout(text: string): void;
}

export interface FakeRunner extends ProcessRunner {
  readonly children: FakeChild[];
  /** Children that have not exited. */
  running(): FakeChild[];
  /** Most processes alive at once so far. */
  peak(): number;
}

/**
 * `exitOn`: signals the fake process obeys by exiting (default SIGTERM and SIGKILL); a test can leave out
 * SIGTERM to model an ffmpeg that hangs.
 */
export function createFakeRunner(opts: { exitOn?: NodeJS.Signals[]; firstPid?: number } = {}): FakeRunner {
  const exitOn = opts.exitOn ?? ['SIGTERM', 'SIGKILL'];
  let nextPid = opts.firstPid ?? 40_000;
  let alive = 0;
  let peak = 0;
  const children: FakeChild[] = [];

  class Child extends EventEmitter implements FakeChild {
    readonly pid: number;
    readonly stdout = new PassThrough();
    readonly stderr = new PassThrough();
    readonly signals: NodeJS.Signals[] = [];
    readonly cmd: string;
    readonly args: readonly string[];
    exited = false;
    constructor(cmd: string, args: readonly string[]) {
      super();
      this.pid = nextPid++;
      this.cmd = cmd;
      this.args = [...args];
    }
    kill(signal: NodeJS.Signals) {
      if (this.exited) return;
      this.signals.push(signal);
      if (exitOn.includes(signal)) this.exit({ code: null, signal });
    }
    exit(info: Partial<ExitInfo> = {}) {
      if (this.exited) return;
      this.exited = true;
      alive--;
      this.stdout.end();
      this.stderr.end();
      const full: ExitInfo = { code: info.code ?? (info.signal ? null : 0), signal: info.signal ?? null };
      if (info.error) full.error = info.error;
      // After the streams are drained, like 'close' of a real child.
      setImmediate(() => this.emit('exit', full));
    }
    writeStderr(text: string) {
      this.stderr.write(text);
    }
    writeStdout(text: string) {
      this.stdout.write(text);
    }
  }

  return {
    children,
    spawn(cmd, args) {
      const c = new Child(cmd, args);
      children.push(c);
      alive++;
      peak = Math.max(peak, alive);
      return c;
    },
    running: () => children.filter((c) => !c.exited),
    peak: () => peak,
  };
}

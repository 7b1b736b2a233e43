/**
 * The process seam: spawning ffmpeg and looking at / signalling processes. The only module here that calls
 * node:child_process or reads /proc; supervisors and the relay take these interfaces as arguments so unit tests
 * can drive them with fakes (immich `process.repository.ts`).
 */
import { spawn as nodeSpawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
}

/** A running child. `kill` signals its whole process group (it was started detached, as a group leader). */
export interface ChildHandle {
  /** Undefined only when spawning failed; 'exit' then follows with `error`. */
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** File descriptor 3 of the child, when spawned with `media: true` (the relay's live fMP4 output). */
  readonly media?: Readable;
  /** Emitted exactly once, after stdout/stderr are flushed. */
  on(event: 'exit', listener: (info: ExitInfo) => void): this;
  kill(signal: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Always true: each child leads its own process group so SIGTERM/SIGKILL reach anything it forked. */
  detached: true;
  /** A pipe on the child's fd 3 (read as `ChildHandle.media`). */
  media?: boolean;
}

export interface ProcessRunner {
  spawn(cmd: string, args: readonly string[], opts: SpawnOptions): ChildHandle;
}

/** What orphan cleanup needs to know about processes it did not start in this lifetime. */
export interface ProcessTable {
  /** argv of a live process, or null when it does not exist (or cannot be read). */
  cmdline(pid: number): string[] | null;
  /** Process group and start time (clock ticks since boot) of a live process; null when gone. */
  stat(pid: number): { ppid: number; pgrp: number; startTime: number } | null;
  /** Signals the process group led by `pid`; false when there is none. */
  signalGroup(pid: number, signal: NodeJS.Signals): boolean;
  /** Pids of processes whose executable name contains `name` (for leak checks and diagnostics). */
  findByName(name: string): number[];
}

/** Signals a process group; false when it no longer exists. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

class NodeChild extends EventEmitter implements ChildHandle {
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly media?: Readable;

  constructor(cmd: string, args: readonly string[], media: boolean) {
    super();
    const child = nodeSpawn(cmd, args, {
      detached: true,
      stdio: media ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    });
    this.pid = child.pid;
    this.stdout = child.stdout!;
    this.stderr = child.stderr!;
    if (media && child.stdio[3]) this.media = child.stdio[3] as Readable;
    let done = false;
    const finish = (info: ExitInfo) => {
      if (done) return;
      done = true;
      this.emit('exit', info);
    };
    // 'close' (not 'exit'): the last stderr line, the reason an operator reads, has arrived by then.
    child.on('close', (code, signal) => finish({ code, signal }));
    child.on('error', (error) => {
      // A failed spawn gets no 'close' in every Node version; a failed kill of a live child is not an exit.
      if (child.pid === undefined) finish({ code: null, signal: null, error });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.pid !== undefined) signalGroup(this.pid, signal);
  }
}

/** The real runner: node:child_process, detached (own process group), stdin closed, stdout/stderr piped. */
export function createProcessRunner(): ProcessRunner {
  return { spawn: (cmd, args, opts) => new NodeChild(cmd, args, opts.media === true) };
}

/** The real process table, from Linux /proc. */
export function createProcessTable(procRoot = '/proc'): ProcessTable {
  return {
    cmdline(pid) {
      try {
        const raw = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8');
        if (!raw) return null; // zombies and kernel threads have an empty cmdline
        return raw.replace(/\0$/, '').split('\0');
      } catch {
        return null;
      }
    },
    stat(pid) {
      try {
        return parseProcStat(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
      } catch {
        return null;
      }
    },
    signalGroup,
    findByName(name) {
      const out: number[] = [];
      let entries: string[];
      try {
        entries = readdirSync(procRoot);
      } catch {
        return out;
      }
      for (const e of entries) {
        if (!/^\d+$/.test(e)) continue;
        try {
          const comm = readFileSync(`${procRoot}/${e}/comm`, 'utf8').trim();
          if (comm.includes(name)) out.push(Number(e));
        } catch {
          // gone meanwhile
        }
      }
      return out;
    },
  };
}

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so fields count from the last ')'. */
export function parseProcStat(text: string): { ppid: number; pgrp: number; startTime: number; state: string } | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After the name: state(3) ppid(4) pgrp(5) … starttime(22); f[0] is field 3.
  const state = f[0];
  const ppid = Number(f[1]);
  const pgrp = Number(f[2]);
  const startTime = Number(f[19]);
  if (!state || !Number.isFinite(ppid) || !Number.isFinite(pgrp) || !Number.isFinite(startTime)) return null;
  // A zombie is dead for every purpose here (its group can no longer write anything).
  if (state === 'Z' || state === 'X') return null;
  return { ppid, pgrp, startTime, state };
}

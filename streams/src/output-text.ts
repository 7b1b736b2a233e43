/** Reading what ffmpeg writes: `-progress` blocks on stdout, log lines on stderr. Pure helpers. */

/** Splits a byte stream into lines; keeps the unfinished tail (capped, so a line without '\n' cannot grow forever). */
export class LineSplitter {
  #tail = '';
  readonly #max: number;
  constructor(maxLineLength = 4096) {
    this.#max = maxLineLength;
  }
  push(chunk: Buffer | string): string[] {
    const text = this.#tail + chunk.toString();
    const parts = text.split(/\r\n|\n|\r/);
    this.#tail = (parts.pop() ?? '').slice(-this.#max);
    return parts.map((l) => l.slice(0, this.#max));
  }
  /** The unfinished last line, if any (on process exit). */
  flush(): string[] {
    const t = this.#tail;
    this.#tail = '';
    return t ? [t] : [];
  }
}

/** The last `capacity` items. */
export class RingBuffer<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  constructor(capacity: number) {
    this.#capacity = capacity;
  }
  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.#capacity) this.#items.splice(0, this.#items.length - this.#capacity);
  }
  toArray(): T[] {
    return [...this.#items];
  }
  last(): T | undefined {
    return this.#items.at(-1);
  }
  get length(): number {
    return this.#items.length;
  }
}

export interface ProgressSample {
  fps?: number;
  /** Output bitrate; absent when ffmpeg reports N/A (always for HLS: the muxer writes many files). */
  bitrateKbps?: number;
  /** Media time written so far (out_time_us), milliseconds. */
  outTimeMs?: number;
  frame?: number;
  speed?: number;
  /** 'end' on the last block. */
  progress?: 'continue' | 'end';
}

const finite = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number.parseFloat(s);
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Collects `key=value` lines of `-progress` output; a block ends with `progress=continue|end`, then the
 * sample is returned (else undefined).
 */
export class ProgressParser {
  #block = new Map<string, string>();

  line(line: string): ProgressSample | undefined {
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    this.#block.set(key, value);
    if (key !== 'progress') return undefined;
    const b = this.#block;
    this.#block = new Map();
    return progressSample(b);
  }
}

export function progressSample(b: ReadonlyMap<string, string>): ProgressSample {
  const s: ProgressSample = {};
  const fps = finite(b.get('fps'));
  if (fps !== undefined) s.fps = fps;
  // "1234.5kbits/s" or "N/A"
  const br = /^([\d.]+)kbits\/s$/.exec(b.get('bitrate') ?? '');
  if (br) s.bitrateKbps = Number.parseFloat(br[1]!);
  const us = finite(b.get('out_time_us') ?? b.get('out_time_ms')); // out_time_ms is microseconds too (ffmpeg quirk)
  if (us !== undefined && us >= 0) s.outTimeMs = Math.round(us / 1000);
  const frame = finite(b.get('frame'));
  if (frame !== undefined) s.frame = frame;
  const speed = finite((b.get('speed') ?? '').replace(/x$/, ''));
  if (speed !== undefined) s.speed = speed;
  const p = b.get('progress');
  if (p === 'continue' || p === 'end') s.progress = p;
  return s;
}

/**
 * `scheme://user:password@host` (RTSP, HTTP, RTMP, MQTT…): everything between `//` and the last `@` of the
 * authority (passwords with an unencoded '@' are common on cameras), never past its end (/ ? # or a space).
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/gi;

/**
 * Masks credentials in URLs (`rtsp://admin:pw@host` → `rtsp://***@host`): ffmpeg repeats the input URL in its
 * errors, and stderr lines go to logs and the API. The server's logger uses it with its own mark.
 */
export function redactUrls(text: string, mark = '***'): string {
  return text.replace(URL_USERINFO, `$1${mark}@`);
}

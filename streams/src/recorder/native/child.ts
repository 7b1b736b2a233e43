/**
 * The in-process recorder of one point (issue 14), shaped as a supervised child (`ChildHandle`) so the
 * recorder supervises it exactly as it supervised ffmpeg: the same backoff, start timeout and watchdog (the
 * segment being written must grow), the same run directories and `list.csv`.
 *
 * Why in process: a copying ffmpeg behind the source proxy cost ~0.9–1.1 % of a core per 1080p point, half
 * of it ffmpeg reading the proxy's loopback socket and half the proxy writing it. Here the proxy hands the
 * camera's packets to the depacketizer in the same process; the picture is copied (never decoded or
 * re-encoded) into MPEG-TS by `SegmentWriter`.
 *
 * Signals: SIGTERM ends the session and closes the last segment (listed, like ffmpeg's 'q'); SIGKILL stops
 * at once and leaves the segment being written unlisted, for the next start's repair. Reasons go to stderr
 * as lines, which the supervisor shows as a stopped recorder's reason.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ChildHandle, ExitInfo } from '../../process.ts';
import type { LocalRtspLink } from '../../source-proxy.ts';
import { RtpDepacketizer } from './depacketize.ts';
import { RtspPull } from './rtsp-pull.ts';
import { SegmentWriter } from './segment-writer.ts';

export interface NativeRecordSpec {
  /** The source proxy's loopback URL of the camera. */
  url: string;
  /** The run directory (segments and list.csv). */
  dir: string;
  segmentSeconds: number;
  connect(): LocalRtspLink;
  now?: () => number;
}

export class NativeRecordChild extends EventEmitter implements ChildHandle {
  readonly pid = undefined;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly #spec: NativeRecordSpec;
  readonly #now: () => number;
  #pull: RtspPull | undefined;
  #writer: SegmentWriter | undefined;
  #exited = false;
  #ending = false;

  constructor(spec: NativeRecordSpec) {
    super();
    this.#spec = spec;
    this.#now = spec.now ?? Date.now;
    // The supervisor listens after spawn returns: start on the next tick.
    setImmediate(() => void this.#start());
  }

  #line(text: string): void {
    if (!this.stderr.writableEnded) this.stderr.write(`${text}\n`);
  }

  #exit(info: ExitInfo): void {
    if (this.#exited) return;
    this.#exited = true;
    this.stdout.end();
    this.stderr.end();
    // After the streams' last data, as a process's 'close' comes after its output.
    setImmediate(() => this.emit('exit', info));
  }

  async #start(): Promise<void> {
    if (this.#ending) return;
    let link: LocalRtspLink;
    try {
      link = this.#spec.connect();
    } catch (err) {
      this.#line(`cannot open the stream: ${(err as Error).message}`);
      return this.#exit({ code: 1, signal: null });
    }
    let depacketizer: RtpDepacketizer | undefined;
    const pull = new RtspPull({
      link,
      url: this.#spec.url,
      onRtp: (p) => depacketizer?.push(p),
      onClose: () => void this.#end('the stream ended', 1),
    });
    this.#pull = pull;
    try {
      const video = await pull.start();
      if (this.#ending) return;
      const writer = new SegmentWriter({
        dir: this.#spec.dir,
        segmentSeconds: this.#spec.segmentSeconds,
        codec: video.codec,
        params: video.params,
        onError: (err) => void this.#end(`cannot write the recording: ${err.message}`, 1),
      });
      this.#writer = writer;
      depacketizer = new RtpDepacketizer(video.codec, video.payloadType, (au) => writer.accessUnit(au, this.#now()));
    } catch (err) {
      pull.close();
      this.#line((err as Error).message);
      this.#exit({ code: 1, signal: null });
    }
  }

  /** The session ends: the last segment is closed and listed, then 'exit'. */
  async #end(reason: string | null, code: number | null, signal: NodeJS.Signals | null = null): Promise<void> {
    if (this.#ending) return;
    this.#ending = true;
    if (reason) this.#line(reason);
    const pull = this.#pull;
    const writer = this.#writer;
    try {
      await writer?.finish();
    } catch {
      // reported through onError already
    }
    await pull?.stop();
    this.#exit({ code, signal });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#exited) return;
    if (signal === 'SIGKILL') {
      this.#ending = true;
      this.#writer?.abort();
      this.#pull?.close();
      this.#exit({ code: null, signal });
      return;
    }
    void this.#end(null, null, signal);
  }
}

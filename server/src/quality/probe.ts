/**
 * What the quality service needs of the media plane: one picture diagnosis of a camera's stream. Built by the
 * entry file (and tests) from streams/'s diagnoser; a camera with credentials is opened through the loopback
 * source proxy when there is one (issue 12: no password on a command line), else sampled without them (a
 * camera that insists then answers 401: no_signal, unauthorized).
 */
import {
  createPictureDiagnoser,
  createProcessRunner,
  type DiagnoseOptions,
  type DiagnosisResult,
  type PictureDiagnoser,
} from '../../../streams/src/index.ts';

export interface ProbeSource {
  /** The registered address, without credentials. */
  url: string;
  credentials: { username: string; password: string } | null;
}

export interface PictureProbe {
  diagnose(source: ProbeSource, opts: DiagnoseOptions): Promise<DiagnosisResult>;
}

/** Opens a source behind the loopback proxy: ffmpeg gets `url`, the proxy holds the credentials. */
export type OpenSource = (source: ProbeSource) => Promise<{ url: string; close(): void }>;

export function createPictureProbe(o: {
  ffmpegPath: string;
  tmpDir: string;
  niceLevel: number | null;
  openSource?: OpenSource;
  diagnoser?: PictureDiagnoser;
}): PictureProbe {
  const diagnoser =
    o.diagnoser ??
    createPictureDiagnoser({
      ffmpegPath: o.ffmpegPath,
      runner: createProcessRunner(),
      tmpDir: o.tmpDir,
      nice: o.niceLevel === null ? null : '/usr/bin/nice',
      ...(o.niceLevel === null ? {} : { niceLevel: o.niceLevel }),
    });
  return {
    async diagnose(source, opts) {
      if (source.credentials && o.openSource) {
        const endpoint = await o.openSource(source);
        try {
          return await diagnoser.diagnose({ url: endpoint.url }, opts);
        } finally {
          endpoint.close();
        }
      }
      return diagnoser.diagnose({ url: source.url }, opts);
    },
  };
}

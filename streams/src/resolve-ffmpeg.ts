/** Which ffmpeg binary to run. Pure: the environment and a file check are passed in. */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export interface ResolveFfmpegInput {
  /** From config (e.g. `media.ffmpegPath`); empty or null means "find it". */
  configured?: string | null;
  env: Readonly<Record<string, string | undefined>>;
  /** True when `file` exists and is executable. */
  exists: (file: string) => boolean;
  /** Where to look for node_modules (this directory and its parents). Default: none. */
  cwd?: string;
  platform?: string;
  arch?: string;
}

export type FfmpegResolution =
  { ok: true; path: string; source: 'configured' | 'PATH' | 'npm'; warning?: string } | { ok: false; error: string };

const INSTALL_HINT = 'install it with `apt-get install ffmpeg` (Debian/Ubuntu) or set the ffmpeg path in the config';

/**
 * The configured path if it is executable; else `ffmpeg` on PATH; else a binary shipped in an npm package
 * (`@ffmpeg-installer/<platform>-<arch>`, `ffmpeg-static`) if one happens to be installed; else an error
 * naming what to install.
 */
export function resolveFfmpeg(input: ResolveFfmpegInput): FfmpegResolution {
  const platform = input.platform ?? 'linux';
  const arch = input.arch ?? 'x64';
  const exe = platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg';
  const p = platform === 'win32' ? path.win32 : path.posix;
  const configured = input.configured?.trim() || undefined;
  let warning: string | undefined;
  if (configured) {
    if (input.exists(configured)) return { ok: true, path: configured, source: 'configured' };
    warning = `configured ffmpeg "${configured}" is not an executable file; looking elsewhere`;
  }
  const pathVar = input.env['PATH'] ?? input.env['Path'] ?? '';
  for (const dir of pathVar.split(platform === 'win32' ? ';' : ':')) {
    if (!dir) continue;
    const candidate = p.join(dir, exe);
    if (input.exists(candidate)) return { ok: true, path: candidate, source: 'PATH', ...(warning ? { warning } : {}) };
  }
  if (input.cwd) {
    for (let dir = p.resolve(input.cwd); ; dir = p.dirname(dir)) {
      for (const rel of [`@ffmpeg-installer/${platform}-${arch}/${exe}`, `ffmpeg-static/${exe}`]) {
        const candidate = p.join(dir, 'node_modules', rel);
        if (input.exists(candidate))
          return { ok: true, path: candidate, source: 'npm', ...(warning ? { warning } : {}) };
      }
      if (p.dirname(dir) === dir) break;
    }
  }
  const tried = [
    configured ? `configured path "${configured}"` : undefined,
    'ffmpeg on PATH',
    input.cwd ? `node_modules/@ffmpeg-installer/${platform}-${arch}` : undefined,
  ].filter(Boolean);
  return { ok: false, error: `ffmpeg not found (tried ${tried.join(', ')}): ${INSTALL_HINT}` };
}

/** The real `exists` for `resolveFfmpeg`: a regular file we may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

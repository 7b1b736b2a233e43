/**
 * Test fixture: a relay in a process of its own, for orphans.integration.test.ts. Starts one stream, prints
 * `{"pid":…,"dir":…}` once the playlist has a segment, then waits to be killed (kill -9 leaves its ffmpeg behind).
 * Usage: node orphan-child.fixture.ts <rootDir> <url> [hls-only]
 * `hls-only` turns the live fMP4 output off: that ffmpeg has no pipe to its parent, so it outlives a kill -9.
 */
import { createHlsRelay } from './relay.ts';

const [rootDir, url, mode] = process.argv.slice(2);
if (!rootDir || !url) throw new Error('usage: orphan-child.fixture.ts <rootDir> <url>');
const relay = createHlsRelay({
  ffmpegPath: '/usr/bin/ffmpeg',
  rootDir,
  idleTimeoutMs: 600_000,
  live: mode !== 'hls-only',
});
const session = await relay.acquire('orphan-cam', { url, codec: 'h264', audio: 'none' });
await relay.waitForPlaylist('orphan-cam', 20_000);
process.stdout.write(JSON.stringify({ pid: relay.status('orphan-cam')?.pid, dir: session.dir }) + '\n');
// Stay alive; a safety net in case the test never kills us.
setTimeout(() => void relay.stopAll().then(() => process.exit(0)), 60_000);

/**
 * The loopback source proxy against the camera simulator (which demands a password here) with real ffprobe
 * and ffmpeg as its clients: TCP and UDP towards the camera, the password answered by the proxy and never on a
 * command line, wrong passwords and dead cameras explained, other users refused.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import { createHlsRelay, type HlsRelay } from './relay.ts';
import { createSourceProxy, loopbackPeerUid, type SourceProxy } from './source-proxy.ts';
import { FFMPEG, FFPROBE, killLeftovers, run, smallSimOptions, waitFor } from './test-support.ts';

let sim: Simulator;
let block: LoopbackBlock;
let base: string;
let proxy: SourceProxy;
let relay: HlsRelay;

const probe = (url: string) =>
  run(FFPROBE, [
    '-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', url,
  ], 20_000); // prettier-ignore

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'ccc-proxy-it-'));
  block = await claimLoopbackBlock();
  const small = smallSimOptions(base, block);
  sim = await startSimulator({
    ...small,
    cameras: small.cameras.map((c) => ({ ...c, password: 'S3cret-pw!' })),
    rtspAuth: 'required',
  });
  proxy = createSourceProxy();
  relay = createHlsRelay({ ffmpegPath: FFMPEG, rootDir: path.join(base, 'hls'), segmentSeconds: 1, listSize: 4 });
});

afterAll(async () => {
  await relay?.close();
  await proxy?.close();
  const leftovers = killLeftovers(base);
  await sim?.stop();
  await block?.release();
  rmSync(base, { recursive: true, force: true });
  expect(leftovers).toEqual([]);
});

const creds = () => ({ username: sim.cameras[0]!.username, password: 'S3cret-pw!' });

describe('loopback source proxy', () => {
  it('carries RTSP over TCP to a camera that demands a password; ffprobe sees H.264 without it', async () => {
    const ep = await proxy.open({ url: sim.cameras[0]!.mainStreamUri, credentials: creds(), transport: 'tcp' });
    expect(ep.url).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/[\w-]+\/Streaming\/Channels\/101$/);
    const seen: string[] = [];
    ep.onTransport((t) => seen.push(t));
    const r = await probe(ep.url);
    expect(r.stdout.trim()).toBe('h264,320,180');
    expect(ep.lastError()).toBeUndefined();
    expect(seen).toEqual(['tcp']);
    ep.close();
  });

  it('receives UDP from the camera and hands it to ffmpeg interleaved over TCP', async () => {
    const ep = await proxy.open({ url: sim.cameras[0]!.mainStreamUri, credentials: creds(), transport: 'udp' });
    const r = await probe(ep.url);
    expect(r.stdout.trim()).toBe('h264,320,180');
    expect(ep.transport()).toBe('udp');
    ep.close();
  });

  it('fragments joined into NAL units (rtp-merge.ts) decode without one error over TCP and UDP', async () => {
    for (const transport of ['tcp', 'udp'] as const) {
      const ep = await proxy.open({ url: sim.cameras[1]!.mainStreamUri, credentials: creds(), transport });
      // prettier-ignore
      const r = await run(FFMPEG, [
        '-v', 'error', '-rtsp_transport', 'tcp', '-i', ep.url, '-map', '0:v:0', '-t', '3', '-f', 'framecrc', '-',
      ], 30_000);
      ep.close();
      expect(r.stderr.trim(), `${transport}: decoder errors`).toBe('');
      const frames = r.stdout.split('\n').filter((l) => /^\d+,/.test(l));
      expect(frames.length, transport).toBeGreaterThanOrEqual(25); // 10 fps for 3 s
    }
  });

  it('a wrong password is explained as such; a dead camera as a refused connection', async () => {
    const bad = await proxy.open({
      url: sim.cameras[0]!.mainStreamUri,
      credentials: { username: 'admin', password: 'wrong' },
      transport: 'auto',
    });
    expect((await probe(bad.url)).code).not.toBe(0);
    expect(bad.lastError()).toMatch(/authentication failed/);
    const none = await proxy.open({ url: sim.cameras[0]!.mainStreamUri, transport: 'auto' });
    expect((await probe(none.url)).code).not.toBe(0);
    expect(none.lastError()).toMatch(/asks for a password and none is stored/);
    const dead = await proxy.open({ url: `rtsp://${block.host(250)}:9/x`, transport: 'tcp' });
    expect((await probe(dead.url)).code).not.toBe(0);
    expect(dead.lastError()).toBe(`connection refused by ${block.host(250)}:9`);
    for (const e of [bad, none, dead]) e.close();
  });

  it('an unknown token, or a second client on a token, gets nothing', async () => {
    const ep = await proxy.open({ url: sim.cameras[0]!.mainStreamUri, credentials: creds(), transport: 'tcp' });
    const other = ep.url.replace(/\/[\w-]{20,}\//, '/AAAAAAAAAAAAAAAAAAAAAA/');
    expect((await probe(other)).code).not.toBe(0);
    // ffmpeg holds the endpoint; a reader of its command line tries the same URL meanwhile.
    const child = spawn(FFMPEG, ['-v', 'error', '-rtsp_transport', 'tcp', '-i', ep.url, '-f', 'null', '-'], {
      stdio: 'ignore',
    });
    await waitFor('ffmpeg to hold the endpoint', () => proxy.stats().connections > 0, 10_000);
    expect((await probe(ep.url)).code).not.toBe(0);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    ep.close();
  });

  it('serves only connections of its own user (another local user who read the token gets nothing)', async () => {
    // Parsing /proc/net/tcp: the client end's owner.
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 20 4 30 10 -1',
      '   1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1',
    ].join('\n');
    expect(loopbackPeerUid(table, 0x9c40, 0x1f90)).toBe(1000);
    expect(loopbackPeerUid(table, 0x9c41, 0x1f90)).toBeNull();
    if (process.getuid?.() !== 0) {
      console.warn('SKIP: running ffprobe as another user needs root; the /proc/net/tcp parsing is checked above');
      return;
    }
    const ep = await proxy.open({ url: sim.cameras[0]!.mainStreamUri, credentials: creds(), transport: 'tcp' });
    const asNobody = await new Promise<number | null>((resolve) => {
      const c = spawn(FFPROBE, ['-v', 'error', '-rtsp_transport', 'tcp', '-i', ep.url], { uid: 65534, gid: 65534 });
      c.on('exit', (code) => resolve(code));
    });
    expect(asNobody).not.toBe(0);
    expect((await probe(ep.url)).stdout.trim()).toBe('h264,320,180');
    ep.close();
  });

  it('a relay of a camera with a password: live video, and no process on the machine has the password in argv', async () => {
    await relay.acquire('cam1', {
      url: sim.cameras[1]!.mainStreamUri,
      credentials: { username: sim.cameras[1]!.username, password: 'S3cret-pw!' },
      codec: 'h264',
      audio: 'none',
      rtspTransport: 'auto',
    });
    await relay.waitForPlaylist('cam1', 20_000);
    expect(relay.status('cam1')).toMatchObject({ transport: 'tcp' });
    const leaks: string[] = [];
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let argv = '';
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      } catch {
        continue;
      }
      if (argv.includes('S3cret-pw!')) leaks.push(`${pid}: ${argv.replace(/\0/g, ' ')}`);
    }
    expect(leaks).toEqual([]);
    await relay.stop('cam1');
  });
});

// The proxy must not make a hung camera hang ffmpeg forever.
it('a camera that accepts the connection and never answers ends with a reason', async () => {
  const silent = net.createServer((c) => c.resume());
  await new Promise<void>((r) => silent.listen(0, block.host(251), () => r()));
  const p = createSourceProxy({ replyTimeoutMs: 1_000 });
  const ep = await p.open({ url: `rtsp://${block.host(251)}:${(silent.address() as net.AddressInfo).port}/x` });
  expect((await probe(ep.url)).code).not.toBe(0);
  expect(ep.lastError()).toMatch(/did not answer OPTIONS within 1 s/);
  await p.close();
  await new Promise((r) => silent.close(r));
});

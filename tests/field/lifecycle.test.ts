/**
 * Issue 12, items 6 and 8, against the real entry point (server/src/main.ts) in child processes:
 *
 * - SIGTERM while streams are opening leaves no ffmpeg: opens waiting for a stalled camera answer 503, and a
 *   codec probe (DESCRIBE) that only finishes after shutdown began does not start an ffmpeg.
 * - A server killed with -9 leaves its ffmpeg behind; the next start on another port finds them by run id.
 * - Ready means ready: a login right after /health/ready first answers is never refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from '../../scripts/sim/addresses.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from '../../scripts/sim/index.ts';
import {
  ffmpegPidsMentioning,
  isAlive,
  killLeftovers,
  pacedTsServer,
  smallSimOptions,
} from '../../streams/src/test-support.ts';
import { client } from '../helpers/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PASSWORD = 'Lifecycle@2026';
let block: LoopbackBlock;
let sim: Simulator;
let base: string;
const children: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  url: string;
  api: string;
  exited: Promise<number | null>;
}

/** The real server in a child process, on a port of its own choosing, with this test's data directory. */
async function startMain(dataDir: string, extra: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [path.join(ROOT, 'server/src/main.ts')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      CCC_SERVER__PORT: '0',
      CCC_STORAGE__SQLITE__PATH: path.join(dataDir, 'ccc.db'),
      CCC_SECURITY__KEY_FILE: path.join(dataDir, 'secret.key'),
      CCC_RELAY__HLS_DIR: path.join(dataDir, 'hls'),
      CCC_ADMIN_PASSWORD: PASSWORD,
      CCC_HEALTH__INTERVAL_SECONDS: '0',
      CCC_LOG__LEVEL: 'error',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out} ${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/[\d.:]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${err}`)));
  });
  return { child, url, api: `${url}/api/v1`, exited };
}

async function adminOf(r: Running) {
  const res = await fetch(`${r.api}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  const api = client(r.api, ((await res.json()) as { token: string }).token);
  const root = ((await api.get('/org-units')).json as { id: number }[])[0]!.id;
  return { api, root };
}

const point = async (api: ReturnType<typeof client>, root: number, name: string, uri: string) => {
  const r = await api.post('/cameras', {
    name,
    networkId: 'xueliang',
    orgUnitId: root,
    position: { lon: 118.7, lat: 31 },
    mainStreamUri: uri,
  });
  expect(r.status, r.text).toBe(201);
  return r.json.id as number;
};

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'ccc-lifecycle-'));
  block = await claimLoopbackBlock();
  sim = await startSimulator({
    ...smallSimOptions(base, block),
    cameras: defaultCameraSpecs(5, { firstIp: block.host(1), seed: 12 }).map((c, i) => ({
      ...c,
      clockOffsetSec: 0,
      // Four cameras answer DESCRIBE and SETUP, then send nothing: opens wait for a first segment.
      faults: i < 4 ? { stalledStream: true } : {},
    })),
  });
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  const left = killLeftovers(base);
  await sim?.stop();
  await block?.release();
  rmSync(base, { recursive: true, force: true });
  expect(left, 'ffmpeg left running').toEqual([]);
});

describe('the server as a process', { timeout: 120_000 }, () => {
  it('SIGTERM while streams open: pending opens answer 503, a probe finishing late starts nothing, no ffmpeg is left', async () => {
    const data = mkdtempSync(path.join(base, 'term-'));
    // A camera whose DESCRIBE answer comes only when the test says: the codec probe is in flight at SIGTERM.
    let described: () => void = () => undefined;
    const describing = new Promise<void>((r) => (described = r));
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((r) => (answer = r));
    const slow = net.createServer((s) => {
      s.on('error', () => undefined);
      s.on('data', (d) => {
        const cseq = /CSeq: (\d+)/i.exec(d.toString())?.[1] ?? '1';
        if (!d.toString().startsWith('DESCRIBE')) return void s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n\r\n`);
        described();
        const sdp = 'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n';
        void answered.then(() =>
          s.write(
            `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
          ),
        );
      });
    });
    await new Promise<void>((r) => slow.listen(0, block.host(200), () => r()));
    const server = await startMain(data);
    const { api, root } = await adminOf(server);
    const stalled = [];
    for (let i = 0; i < 4; i++) stalled.push(await point(api, root, `停滞${i}`, sim.cameras[i]!.mainStreamUri));
    const late = await point(
      api,
      root,
      '慢应答',
      `rtsp://${block.host(200)}:${(slow.address() as net.AddressInfo).port}/x`,
    );
    const hls = path.join(data, 'hls');
    const opens = [...stalled, late].map((id) => api.post(`/cameras/${id}/stream`, { quality: 'main' }));
    await expect.poll(() => ffmpegPidsMentioning(hls).length).toBe(4);
    await describing;
    server.child.kill('SIGTERM');
    // The probe's answer arrives after shutdown began.
    await new Promise((r) => setTimeout(r, 300));
    answer();
    const answers = await Promise.all(opens);
    expect(await server.exited).toBe(0);
    for (const a of answers) {
      expect(a.status, a.text).toBe(503);
      expect(a.json.error.code).toBe('shutting_down');
    }
    // Nothing started after SIGTERM, nothing outlived the server.
    expect(ffmpegPidsMentioning(hls)).toEqual([]);
    expect(ffmpegPidsMentioning(data)).toEqual([]);
    await new Promise((r) => slow.close(r));
  });

  it('a server killed with -9 leaves ffmpeg behind; the next start, on another port, finds them by run id', async () => {
    // An RTSP camera is read through the server's own source proxy, so its ffmpeg ends with the server (input
    // closed). An HTTP camera without a password is read directly: its ffmpeg outlives a kill -9.
    const http = await pacedTsServer(block.host(201), base);
    const data = mkdtempSync(path.join(base, 'orphan-'));
    // Ports set in the configuration, as an operator moving the platform to another port would.
    const first = await startMain(data, { CCC_SERVER__PORT: String(await freePort()) });
    const { api, root } = await adminOf(first);
    const id = await point(api, root, 'HTTP摄像机', http.url);
    const open = await api.post(`/cameras/${id}/stream`, { quality: 'main' });
    expect(open.status, open.text).toBe(200);
    const hls = path.join(data, 'hls');
    await expect.poll(() => ffmpegPidsMentioning(hls)).toHaveLength(1);
    const [orphan] = ffmpegPidsMentioning(hls);
    first.child.kill('SIGKILL');
    await first.exited;
    // Its ffmpeg leads its own process group: it outlives the server.
    expect(isAlive(orphan!)).toBe(true);
    const second = await startMain(data, { CCC_SERVER__PORT: String(await freePort()) });
    expect(new URL(second.url).port).not.toBe(new URL(first.url).port);
    // Cleaned up before the port opened.
    expect(isAlive(orphan!)).toBe(false);
    expect(ffmpegPidsMentioning(hls)).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await http.close();
  });

  it('ready means ready: the first /health/ready that answers 200 is followed by a login that works', async () => {
    const data = mkdtempSync(path.join(base, 'ready-'));
    const port = await freePort();
    // The demo county without its simulator: seeding 400 points and seven users takes a moment.
    const child = spawn(process.execPath, [path.join(ROOT, 'server/src/main.ts'), '--profile', 'demo'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        CCC_SERVER__PORT: String(port),
        CCC_STORAGE__SQLITE__PATH: path.join(data, 'ccc.db'),
        CCC_SECURITY__KEY_FILE: path.join(data, 'secret.key'),
        CCC_RELAY__HLS_DIR: path.join(data, 'hls'),
        CCC_DEMO__SIMULATOR: 'false',
        CCC_INGEST__ENABLED: 'false',
        CCC_HEALTH__INTERVAL_SECONDS: '0',
        CCC_LOG__LEVEL: 'error',
      },
      stdio: 'ignore',
    });
    children.push(child);
    const exited = new Promise((r) => child.once('exit', r));
    const url = `http://127.0.0.1:${port}/api/v1`;
    let ready = false;
    for (let i = 0; i < 6_000 && !ready; i++) {
      try {
        ready = (await fetch(`${url}/health/ready`)).status === 200;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    expect(ready).toBe(true);
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'Demo@2026' }),
    });
    expect(login.status).toBe(200);
    child.kill('SIGTERM');
    await exited;
  });
});

/** A port free now (the child must be told its port to be polled before it prints anything). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

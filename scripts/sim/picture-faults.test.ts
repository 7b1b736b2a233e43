/**
 * Picture faults (issue 16): each is a filter in the clip's encode, applied to the scene before the camera's
 * text; switching one at run time changes what a session that is already playing decodes, at a keyframe,
 * without a decoding error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimLoopbackBlock, type LoopbackBlock } from './addresses.ts';
import { clipEncodeArgs, clipFileName, snapshotFileName, type ClipParams } from './clips.ts';
import { defaultCameraSpecs, startSimulator, type Simulator } from './index.ts';
import { PICTURE_FAULTS, isPictureFault, pictureFaultFilter } from './picture-faults.ts';

const P: ClipParams = {
  code: '34010000001310000001',
  caption: 'Hikvision X',
  stream: 'sub',
  profile: { width: 160, height: 90, fps: 15, bitrateKbps: 150 },
  gopFrames: 15,
  seconds: 2,
  hue: 40,
};

describe('picture fault filters', () => {
  it('has one filter per fault, in the scene before the text', () => {
    const expected: Record<(typeof PICTURE_FAULTS)[number], string> = {
      black: 'lutyuv=y=16:u=128:v=128',
      dark: "lutyuv=y='val*0.22'",
      overexposed: "lutyuv=y='min(255,val*1.5+110)'",
      frozen: 'loop=loop=-1:size=1:start=0',
      blurred: 'gblur=sigma=6',
      covered: 'drawbox=x=0:y=0:w=iw*0.78:h=ih*0.85:color=0x4a4038:t=fill',
      colorCast: "lutyuv=u='(val-128)*0.5+100':v='(val-128)*0.5+158'",
      noisy: 'noise=alls=60:allf=t+u',
      moved: 'hflip,vflip',
    };
    for (const f of PICTURE_FAULTS) {
      expect(pictureFaultFilter(f)).toBe(expected[f]);
      const vf = clipEncodeArgs({ ...P, picture: f }, '/tmp/x.h264', '/font.ttf')[
        clipEncodeArgs({ ...P, picture: f }, '/tmp/x.h264', '/font.ttf').indexOf('-vf') + 1
      ]!;
      expect(vf.startsWith(`hue=h=40,${expected[f]},drawtext=`)).toBe(true);
    }
    expect(isPictureFault('black')).toBe(true);
    expect(isPictureFault('purple')).toBe(false);
  });

  it('gives a faulty clip its own file and leaves good clips where they were cached', () => {
    const good = clipFileName(P);
    expect(clipFileName({ ...P, picture: 'black' })).not.toBe(good);
    expect(clipFileName({ ...P, picture: 'black' })).not.toBe(clipFileName({ ...P, picture: 'dark' }));
    // No picture key at all hashes as before the feature (cached clips stay valid).
    const { picture: _none, ...withoutKey } = { ...P, picture: undefined };
    expect(clipFileName(withoutKey)).toBe(good);
    expect(snapshotFileName({ ...P, picture: 'covered' })).not.toBe(snapshotFileName(P));
  });
});

describe('switching a picture fault on a live camera', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sim-picture-'));
  let sim: Simulator | undefined;
  let block: LoopbackBlock | undefined;
  afterAll(async () => {
    await sim?.stop();
    await block?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns a playing session black at a keyframe, decoding cleanly', async () => {
    block = await claimLoopbackBlock();
    const spec = { ...defaultCameraSpecs(1, { firstIp: block.host(1), seed: 16 })[0]!, clockOffsetSec: 0, faults: {} };
    sim = await startSimulator({
      cameras: [spec],
      clipDir: dir,
      discovery: false,
      streamOverrides: { sub: { width: 160, height: 90, fps: 15, bitrateKbps: 150 } },
      prewarm: { stream: 'sub' },
    });
    const cam = sim.cameras[0]!;
    // Luma of 2 pictures a second, 14 in all (about 7 s), from one RTSP session.
    const W = 160;
    const H = 90;
    const ff = spawn(
      'ffmpeg',
      // prettier-ignore
      ['-hide_banner', '-loglevel', 'error', '-nostdin', '-rtsp_transport', 'tcp', '-i', cam.subStreamUri,
       '-vf', 'fps=2', '-pix_fmt', 'gray', '-frames:v', '14', '-f', 'rawvideo', 'pipe:1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const means: number[] = [];
    let buf = Buffer.alloc(0);
    let errors = '';
    ff.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    let switched = false;
    ff.stdout.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= W * H) {
        const pic = buf.subarray(0, W * H);
        buf = buf.subarray(W * H);
        let sum = 0;
        // The scene only: above the clock band and below the camera's code.
        for (let y = 30; y < 70; y++) for (let x = 0; x < W; x++) sum += pic[y * W + x]!;
        means.push(sum / (40 * W));
        if (means.length === 4 && !switched) {
          switched = true;
          void sim!.setFaults(cam.code, { picture: 'black' });
        }
      }
    });
    const code = await new Promise<number | null>((resolve) => ff.on('close', resolve));
    expect(code).toBe(0);
    expect(errors).toBe('');
    expect(means).toHaveLength(14);
    expect(Math.min(...means.slice(0, 4))).toBeGreaterThan(60);
    expect(Math.max(...means.slice(-3))).toBeLessThan(24);
    expect(sim.getFaults(cam.code)).toEqual({ picture: 'black' });
  }, 60_000);
});

/**
 * 画面故障 — what can be wrong with a camera's picture while its stream works (issue 16): the faults video
 * quality diagnosis has to find. Each is an ffmpeg filter applied to the camera's scene when its clip is
 * encoded, BEFORE the camera's own text (code, model) and the clock band are drawn: a camera draws its OSD
 * over whatever its lens sees, so a covered or defocused camera still shows a sharp clock.
 *
 * Pure: filter text only, tested as a table; clips.ts puts it into the encoder's filter chain.
 */

export const PICTURE_FAULTS = [
  'black',
  'dark',
  'overexposed',
  'frozen',
  'blurred',
  'covered',
  'colorCast',
  'noisy',
  'moved',
] as const;
/**
 * black: no picture (dead sensor, lens cap); dark: an unlit scene at night; overexposed: washed out (sun in the
 * lens, IR on a near wall); frozen: the encoder resends one picture; blurred: out of focus or fogged; covered:
 * something over most of the lens (a bag, a leaf, a cloth); colorCast: the whole picture tinted (a failed IR-cut
 * filter); noisy: heavy sensor noise; moved: the camera turned away from its scene (a different view).
 */
export type SimPictureFault = (typeof PICTURE_FAULTS)[number];

export function isPictureFault(v: unknown): v is SimPictureFault {
  return typeof v === 'string' && (PICTURE_FAULTS as readonly string[]).includes(v);
}

/** The ffmpeg filter (links of a -vf chain) that turns a good scene into this fault. */
export function pictureFaultFilter(fault: SimPictureFault): string {
  switch (fault) {
    case 'black':
      return 'lutyuv=y=16:u=128:v=128';
    case 'dark':
      // About a fifth of the light: what a street looks like at night without IR.
      return "lutyuv=y='val*0.22'";
    case 'overexposed':
      return "lutyuv=y='min(255,val*1.5+110)'";
    case 'frozen':
      // The first picture, repeated for the whole clip (the clock band, drawn by the simulator, still runs).
      return 'loop=loop=-1:size=1:start=0';
    case 'blurred':
      return 'gblur=sigma=6';
    case 'covered':
      // A flat brown cloth over the upper left three quarters.
      return 'drawbox=x=0:y=0:w=iw*0.78:h=ih*0.85:color=0x4a4038:t=fill';
    case 'colorCast':
      // Chroma squeezed and pushed towards red/yellow: every colour leans one way, luma untouched.
      return "lutyuv=u='(val-128)*0.5+100':v='(val-128)*0.5+158'";
    case 'noisy':
      return 'noise=alls=60:allf=t+u';
    case 'moved':
      // Turned away: the scene seen from elsewhere (mirrored both ways), still live.
      return 'hflip,vflip';
  }
}

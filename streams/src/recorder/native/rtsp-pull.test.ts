import { describe, expect, it } from 'vitest';
import { parseSdpVideo } from './rtsp-pull.ts';

const base = 'rtsp://127.0.0.1:5554/tok/live/main';

describe('parseSdpVideo', () => {
  it('the first H.264 video track: payload type, control URLs resolved against the base, sprop parameter sets', () => {
    const sdp = [
      'v=0',
      'o=- 1 1 IN IP4 10.0.0.5',
      's=cam',
      't=0 0',
      'a=control:*',
      'm=audio 0 RTP/AVP 0',
      'a=control:trackID=2',
      'm=video 0 RTP/AVP 96',
      'a=rtpmap:96 H264/90000',
      'a=fmtp:96 packetization-mode=1;profile-level-id=42c01e;sprop-parameter-sets=Z0LAHtkA,aM48gA==',
      'a=control:trackID=1',
      '',
    ].join('\r\n');
    const v = parseSdpVideo(sdp, `${base}/`)!;
    expect(v).toMatchObject({
      codec: 'h264',
      payloadType: 96,
      sessionUrl: `${base}/`,
      trackUrl: `${base}/trackID=1`,
    });
    expect(v.params.map((b) => b.toString('hex'))).toEqual(['6742c01ed900', '68ce3c80']);
  });

  it('H.265 with VPS, SPS and PPS; an absolute track control; a session control', () => {
    const sdp = [
      'v=0',
      'a=control:rtsp://127.0.0.1:5554/tok/live/main/session',
      'm=video 0 RTP/AVP 98',
      'a=rtpmap:98 H265/90000',
      'a=fmtp:98 sprop-vps=QAEMAf8=; sprop-sps=QgEBAWAA; sprop-pps=RAHBcrQ=',
      'a=control:rtsp://127.0.0.1:5554/tok/live/main/v',
    ].join('\n');
    const v = parseSdpVideo(sdp, base)!;
    expect(v).toMatchObject({
      codec: 'h265',
      payloadType: 98,
      sessionUrl: 'rtsp://127.0.0.1:5554/tok/live/main/session',
      trackUrl: 'rtsp://127.0.0.1:5554/tok/live/main/v',
    });
    expect(v.params.length).toBe(3);
  });

  it('no H.264/H.265 video (MJPEG, audio only, garbage) is null; junk in sprop is left out', () => {
    expect(parseSdpVideo('v=0\nm=video 0 RTP/AVP 26\na=rtpmap:26 JPEG/90000\n', base)).toBeNull();
    expect(parseSdpVideo('v=0\nm=audio 0 RTP/AVP 8\na=rtpmap:8 PCMA/8000\n', base)).toBeNull();
    expect(parseSdpVideo('<html>not an SDP</html>', base)).toBeNull();
    expect(parseSdpVideo('m=video 0 RTP/AVP 96\n', base)).toBeNull(); // no rtpmap: nothing known
    const v = parseSdpVideo(
      'm=video 0 RTP/AVP 96 97\na=rtpmap:97 H264/90000\na=fmtp:97 sprop-parameter-sets=<script>,Z0LAHtkA\n',
      base,
    )!;
    expect(v).toMatchObject({ payloadType: 97, trackUrl: base });
    expect(v.params.map((b) => b.toString('hex'))).toEqual(['6742c01ed900']);
  });
});

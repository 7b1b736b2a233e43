import { describe, expect, it } from 'vitest';
import { buildCodecProbeArgs } from './streams-engine.ts';

describe('buildCodecProbeArgs', () => {
  // prettier-ignore
  const table: [string, string[]][] = [
    ['rtmp://127.0.0.1:1935/live/cam7', ['-v', 'error', '-protocol_whitelist', 'rtmp,tcp', '-analyzeduration', '1000000', '-probesize', '1000000', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-i', 'rtmp://127.0.0.1:1935/live/cam7']],
    ['http://10.1.2.3/live.ts', ['-v', 'error', '-protocol_whitelist', 'http,tcp', '-analyzeduration', '1000000', '-probesize', '1000000', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-i', 'http://10.1.2.3/live.ts']],
  ];
  it.each(table)('%s', (url, args) => expect(buildCodecProbeArgs(url)).toEqual(args));

  it('refuses schemes it has no whitelist for', () => {
    expect(() => buildCodecProbeArgs('file:///etc/passwd')).toThrow(/unsupported scheme/);
  });
});

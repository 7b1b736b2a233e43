/** The speeds a recording plays at (½×–8×), as the options of a <select> (the page's and a wall tile's). */
import { SPEEDS } from './usePlaybackPlayer.ts';

export function SpeedOptions() {
  return (
    <>
      {SPEEDS.map((s) => (
        <option key={s} value={s}>
          {s === 0.5 ? '½' : s}×
        </option>
      ))}
    </>
  );
}

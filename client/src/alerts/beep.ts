/**
 * A short two-tone beep made with WebAudio: no audio files, nothing fetched.
 * Browsers only allow sound after a user gesture; until then this is silent.
 */
import type { AlertLevel } from '@api/contract.ts';

let audio: AudioContext | null = null;

/** Higher levels are longer and higher: a duty officer tells red from blue without looking. */
const TONES: Record<AlertLevel, number[]> = {
  red: [880, 660, 880],
  orange: [660],
  yellow: [520],
  blue: [440],
};

export function beep(level: AlertLevel): void {
  try {
    audio ??= new AudioContext();
    const ctx = audio;
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
    const tones = TONES[level];
    let at = ctx.currentTime + 0.02;
    for (const freq of tones) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.15, at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.2);
      at += 0.22;
    }
  } catch (err) {
    console.warn('alert sound unavailable', err);
  }
}

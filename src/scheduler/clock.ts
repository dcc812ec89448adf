// Clocks: the system's, or one that starts at a set instant and runs on in real time (DMM_NOW), so a
// rehearsal or a test can live through any morning.
import type { Clock } from '../ports.js';

export const systemClock: Clock = { now: () => new Date() };

export function clockStartingAt(start: Date, real: Clock = systemClock): Clock {
  const offset = start.getTime() - real.now().getTime();
  return { now: () => new Date(real.now().getTime() + offset) };
}

/** A clock a test moves by hand. */
export function manualClock(start: Date): Clock & { set(instant: Date): void; advance(ms: number): void } {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    set(instant) {
      current = instant.getTime();
    },
    advance(ms) {
      current += ms;
    },
  };
}

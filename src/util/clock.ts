/**
 * Time as the code that waits on it sees it: tests pass a clock they move by hand, so a backoff
 * of minutes is crossed without waiting for it.
 */
export interface Clock {
  now(): number;
  /** Runs `callback` after `delayMs`; returns a function that cancels it. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

/** The wall clock. Its timers never keep the process alive: a retry is not a reason to stay up. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** A delay as a person reads it: "45 s", "2 min", "10 min". */
export function formatDelay(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

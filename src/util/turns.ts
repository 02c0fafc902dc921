let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs a synchronous chunk of work (drawing a chart, normalising pixels) in its own turn of the
 * event loop, after the chunks queued before it. When a batch of eight requests finishes at once,
 * their chunks then run one per turn, with timers and I/O (gateway heartbeats, new interactions)
 * between them, instead of holding the loop for all eight.
 */
export function inTurn<T>(work: () => T): Promise<T> {
  const turn = queue.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(work);
  queue = turn.catch(() => undefined);
  return turn;
}

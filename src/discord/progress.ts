import type { RetryClock } from './delivery.js';

/**
 * The "⏳ …" line a request shows in its reply while it runs (queue position, which model has
 * finished). Discord rate-limits edits, so at most one line goes out per `intervalMs`, and at
 * most one is on its way at a time; a line said in between is not lost but replaced: the newest
 * goes out when the interval ends (or the edit on its way is taken), so the user sees where the
 * request is now, not where it was. Before the acknowledgement there is no reply to edit: the
 * newest line waits for it. Once the answer is on its way nothing more is sent, and the answer
 * waits only for the one line already sent, which would otherwise land on top of it.
 */
export class ProgressLine {
  private latest: string | undefined;
  private sentAt = Number.NEGATIVE_INFINITY;
  private ready = false;
  private done = false;
  private timer: AbortController | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly send: (text: string) => Promise<unknown>,
    private readonly clock: RetryClock,
    private readonly intervalMs: number,
  ) {}

  /** The request's state now; shown at once, at the interval's end, or after the acknowledgement. */
  say(text: string): void {
    if (this.done) return;
    this.latest = text;
    this.flush();
  }

  /** The reply exists ("thinking…"): a waiting line can go out. */
  acknowledged(): void {
    this.ready = true;
    this.flush();
  }

  /** No more lines. Resolves once the line already sent, if any, has been taken (or refused). */
  finish(): Promise<void> {
    this.done = true;
    this.latest = undefined;
    this.timer?.abort();
    return this.inFlight ?? Promise.resolve();
  }

  private flush(): void {
    if (!this.ready || this.done || this.latest === undefined || this.inFlight) return;
    const waitMs = this.sentAt + this.intervalMs - this.clock.now();
    if (waitMs > 0) {
      if (this.timer) return;
      const timer = new AbortController();
      this.timer = timer;
      void this.clock.sleep(waitMs, timer.signal).then(() => {
        if (this.timer === timer) this.timer = undefined;
        this.flush();
      });
      return;
    }
    const text = this.latest;
    this.latest = undefined;
    this.sentAt = this.clock.now();
    // A line that cannot be shown is only a line: the answer still follows.
    this.inFlight = this.send(text).then(
      () => this.settled(),
      () => this.settled(),
    );
  }

  /** The edit on its way was taken or refused: the newest line said meanwhile may follow. */
  private settled(): void {
    this.inFlight = undefined;
    this.flush();
  }
}

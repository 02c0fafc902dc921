/** A use of a command that has passed the cooldown check and holds the user's cooldown while it runs. */
export interface CooldownClaim {
  allowed: true;
  /**
   * The request was not answered (refused for capacity, interrupted by a shutdown, failed on
   * our side): as far as the cooldown is concerned it never happened.
   */
  withdraw(): void;
}

export type CooldownCheck = CooldownClaim | { allowed: false; waitSeconds: number };

/** Per-user cooldowns per command (fair turns at the models are the scheduler's). */
export class FairUse {
  private readonly lastUse = new Map<string, number>();
  /** The longest cooldown asked for so far: nothing younger may be pruned. */
  private longestMs: number;

  constructor(
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.longestMs = cooldownMs;
  }

  /**
   * Starts a use of `command` by a user, unless their last use is too recent: then says how many
   * seconds they must still wait. The use counts from now, and while it runs it blocks the next
   * one as an answered use would (so that a burst cannot slip past the cooldown); a use that
   * ends without an answer is withdrawn, and the user can try again at once. `cooldownMs` is the
   * server's own (its /settings), the default unless given.
   */
  claim(userId: string, command: string, cooldownMs = this.cooldownMs): CooldownCheck {
    this.longestMs = Math.max(this.longestMs, cooldownMs);
    if (cooldownMs === 0) return { allowed: true, withdraw: () => undefined };
    const key = `${userId}:${command}`;
    const now = this.now();
    const previous = this.lastUse.get(key);
    if (previous !== undefined && now - previous < cooldownMs)
      return { allowed: false, waitSeconds: Math.ceil((cooldownMs - (now - previous)) / 1000) };
    this.lastUse.set(key, now);
    if (this.lastUse.size > 10_000) this.prune(now);
    let withdrawn = false;
    return {
      allowed: true,
      withdraw: () => {
        if (withdrawn) return;
        withdrawn = true;
        // Only while this use is still the latest: a later use, started after the cooldown ran
        // out, has recorded its own time, and restoring over it would forget that use.
        if (this.lastUse.get(key) !== now) return;
        if (previous === undefined) this.lastUse.delete(key);
        else this.lastUse.set(key, previous);
      },
    };
  }

  private prune(now: number): void {
    for (const [key, time] of this.lastUse) if (now - time >= this.longestMs) this.lastUse.delete(key);
  }
}

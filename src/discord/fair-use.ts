/** Per-user cooldowns per command, and a cap on requests in flight per server. */
export class FairUse {
  private readonly lastUse = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly cooldownMs: number,
    private readonly guildMaxInFlight: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds the user must still wait before running this command again, or 0 (and the use is recorded). */
  cooldown(userId: string, command: string): number {
    if (this.cooldownMs === 0) return 0;
    const key = `${userId}:${command}`;
    const now = this.now();
    const last = this.lastUse.get(key);
    if (last !== undefined && now - last < this.cooldownMs) return Math.ceil((this.cooldownMs - (now - last)) / 1000);
    this.lastUse.set(key, now);
    if (this.lastUse.size > 10_000) this.prune(now);
    return 0;
  }

  /** Takes a slot for a server; returns false when the server is at its cap. */
  acquire(guildId: string): boolean {
    const current = this.inFlight.get(guildId) ?? 0;
    if (current >= this.guildMaxInFlight) return false;
    this.inFlight.set(guildId, current + 1);
    return true;
  }

  release(guildId: string): void {
    const current = this.inFlight.get(guildId) ?? 0;
    if (current <= 1) this.inFlight.delete(guildId);
    else this.inFlight.set(guildId, current - 1);
  }

  private prune(now: number): void {
    for (const [key, time] of this.lastUse) if (now - time >= this.cooldownMs) this.lastUse.delete(key);
  }
}

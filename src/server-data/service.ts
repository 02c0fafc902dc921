import { z } from 'zod';
import type { Database } from '../journal/database.js';
import { pastRetention, SERVER_DATA_OWNERS, type ServerDataOwner } from './owners.js';

/** Rows one owner deleted. */
export interface Forgotten {
  owner: string;
  rows: number;
}

export interface ChoreReport {
  /** Rows past their server's retention, deleted, by owner (only owners that deleted any). */
  expired: Forgotten[];
  /** Servers the bot left more than the grace period ago, whose data was deleted. */
  forgottenServers: string[];
}

const departedRow = z.object({ guild_id: z.string() });

/**
 * What the bot stores per server, and its deletion: /forget (a server's or a member's), servers
 * the bot was removed from (after a grace period, unless invited back) and rows past retention.
 */
export class ServerData {
  constructor(
    private readonly database: Database,
    private readonly options: {
      /** Days rows are kept when a server did not set its own retention. */
      defaultRetentionDays: number;
      /** Hours after a departure before the server's data is deleted. */
      graceHours: number;
      owners?: readonly ServerDataOwner[];
      /** Called with each server whose rows were deleted (a cache of its settings must go). */
      onForgotten?: (guildId: string) => void;
    },
  ) {}

  private get owners(): readonly ServerDataOwner[] {
    return this.options.owners ?? SERVER_DATA_OWNERS;
  }

  /** Deletes every row stored for a server, owner by owner, in one transaction; its departure too. */
  async forgetServer(guildId: string): Promise<Forgotten[]> {
    const forgotten = await this.database.transaction(async (tx) => {
      const counts: Forgotten[] = [];
      for (const owner of this.owners) counts.push({ owner: owner.name, rows: await owner.forgetServer(tx, guildId) });
      await tx.query('DELETE FROM departed_servers WHERE guild_id = $1', [guildId]);
      return counts;
    });
    this.options.onForgotten?.(guildId);
    return forgotten;
  }

  /** Deletes (or unlinks) what each owner stores about one member of a server, in one transaction. */
  async forgetMember(guildId: string, userId: string): Promise<Forgotten[]> {
    return this.database.transaction(async (tx) => {
      const counts: Forgotten[] = [];
      for (const owner of this.owners) {
        counts.push({ owner: owner.name, rows: await owner.forgetMember(tx, guildId, userId) });
      }
      return counts;
    });
  }

  /** The bot was removed from a server: its data is deleted after the grace period. The first departure counts. */
  async departed(guildId: string, at: number): Promise<void> {
    await this.database.query(
      'INSERT INTO departed_servers (guild_id, left_at) VALUES ($1, $2::timestamptz) ON CONFLICT (guild_id) DO NOTHING',
      [guildId, new Date(at).toISOString()],
    );
  }

  /** The bot is in these servers (invited back, or there at start-up): nothing of theirs is to be deleted. Returns how many departures were cancelled. */
  async present(guildIds: readonly string[]): Promise<number> {
    if (guildIds.length === 0) return 0;
    const { rowCount } = await this.database.query('DELETE FROM departed_servers WHERE guild_id = ANY($1::text[])', [
      `{${guildIds.map((id) => `"${id.replace(/["\\]/g, '')}"`).join(',')}}`,
    ]);
    return rowCount;
  }

  /**
   * The periodic chore: deletes the data of servers left more than the grace period ago, then
   * rows past their server's retention.
   */
  async chores(now: number): Promise<ChoreReport> {
    const cutoff = new Date(now - this.options.graceHours * 3_600_000).toISOString();
    const { rows } = await this.database.query(
      'SELECT guild_id FROM departed_servers WHERE left_at <= $1::timestamptz ORDER BY left_at',
      [cutoff],
    );
    const forgottenServers: string[] = [];
    for (const row of rows) {
      const { guild_id: guildId } = departedRow.parse(row);
      await this.forgetServer(guildId);
      forgottenServers.push(guildId);
    }
    const expired: Forgotten[] = [];
    const params = [new Date(now).toISOString(), this.options.defaultRetentionDays] as const;
    for (const owner of this.owners) {
      if (!owner.expire) continue;
      const deleted = await this.database.transaction((tx) => owner.expire!(tx, pastRetention, params));
      if (deleted > 0) expired.push({ owner: owner.name, rows: deleted });
    }
    return { expired, forgottenServers };
  }
}

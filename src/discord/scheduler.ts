import { UserFacingError } from '../util/errors.js';

/** One request asking for a turn at the models. */
export interface Ticket {
  guild: string;
  user: string;
  /** The command, whose measured run time estimates what this request will cost. */
  kind: string;
}

/** Where a waiting request stands: its 1-based place in the serving order and a rough wait. */
export interface WaitNotice {
  position: number;
  estimatedWaitMs: number;
}

export interface SchedulerOptions {
  /** Requests that may run at once (the micro-batcher gathers them into batches). */
  slots: number;
  /** Requests that may wait in all; past it, new ones are refused with a time to come back. */
  maxQueued: number;
  /** Requests one member may have waiting; past it, that member's new ones are refused. */
  perUserQueued: number;
  /**
   * Requests one server may have running at once. Below the slots, so that a burst from one
   * server (a class told "try it now") cannot take every slot before the next server's first
   * request arrives.
   */
  perGuildRunning: number;
  /** What a request is assumed to cost (ms) until its command has been measured. */
  defaultCostMs: number;
  now?: () => number;
}

interface Waiter {
  ticket: Ticket;
  cost: number;
  onWait: ((notice: WaitNotice) => void) | undefined;
  lastPosition: number;
  start: (release: () => void) => void;
  refuse: (error: unknown) => void;
}

/**
 * Fair turns at the models for a whole class at once: each server has its own queue, and the
 * servers are served by deficit round-robin weighted by each request's estimated cost (what its
 * command has measured), so a server sending many slow requests cannot starve another, and
 * within a server requests keep their order. A member may have only a few requests waiting, so
 * one student cannot fill the class's queue. Nothing is refused until the global bound is
 * reached, and a refusal says roughly when to come back.
 */
export class FairScheduler {
  private readonly queues = new Map<string, Waiter[]>();
  /** Servers with waiting requests, in serving order; the head is being visited. */
  private readonly ring: string[] = [];
  private readonly deficit = new Map<string, number>();
  private visiting: string | undefined;
  private readonly waitingPerUser = new Map<string, number>();
  private readonly costs = new Map<string, number>();
  private readonly runningPerGuild = new Map<string, number>();
  private runningCount = 0;
  private waitingCount = 0;
  private readonly now: () => number;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? Date.now;
  }

  get running(): number {
    return this.runningCount;
  }

  get waiting(): number {
    return this.waitingCount;
  }

  /** The estimated cost of a kind of request: the moving average of its measured run times. */
  costOf(kind: string): number {
    return this.costs.get(kind) ?? this.options.defaultCostMs;
  }

  /**
   * Waits for this request's turn and resolves with the function to call when it finishes.
   * Rejects at once (a UserFacingError, code `busy`) when the member or the whole bot has too
   * many requests waiting.
   */
  turn(ticket: Ticket, onWait?: (notice: WaitNotice) => void, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.runningCount < this.options.slots && this.waitingCount === 0 && this.hasRoom(ticket.guild)) {
      return Promise.resolve(this.begin(ticket));
    }
    if ((this.waitingPerUser.get(ticket.user) ?? 0) >= this.options.perUserQueued) {
      return Promise.reject(
        new UserFacingError(
          `You already have ${this.options.perUserQueued} requests waiting; they will be answered in turn, then send more.`,
          { code: 'busy' },
        ),
      );
    }
    if (this.waitingCount >= this.options.maxQueued) {
      const seconds = Math.max(1, Math.ceil(this.drainMs() / 1000));
      return Promise.reject(
        new UserFacingError(
          `I have ${this.waitingCount} requests waiting right now; please try again in about ${seconds} s.`,
          { code: 'busy' },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        ticket,
        cost: this.costOf(ticket.kind),
        onWait,
        lastPosition: 0,
        start: resolve,
        refuse: reject,
      };
      let queue = this.queues.get(ticket.guild);
      if (!queue) {
        queue = [];
        this.queues.set(ticket.guild, queue);
        this.ring.push(ticket.guild);
      }
      queue.push(waiter);
      this.waitingCount += 1;
      this.waitingPerUser.set(ticket.user, (this.waitingPerUser.get(ticket.user) ?? 0) + 1);
      // A request given up while it waits (its user's interaction is being shut down) leaves the queue.
      signal?.addEventListener('abort', () => this.withdraw(waiter, signal.reason), { once: true });
      this.dispatch();
      this.notify();
    });
  }

  private withdraw(waiter: Waiter, reason: unknown): void {
    const guild = waiter.ticket.guild;
    const queue = this.queues.get(guild);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index < 0) return;
    queue.splice(index, 1);
    this.waitingCount -= 1;
    this.forgetWaiting(waiter.ticket.user);
    if (queue.length === 0) {
      this.queues.delete(guild);
      this.ring.splice(this.ring.indexOf(guild), 1);
      this.deficit.delete(guild);
      if (this.visiting === guild) this.visiting = undefined;
    }
    waiter.refuse(reason);
    this.notify();
  }

  private forgetWaiting(user: string): void {
    const left = (this.waitingPerUser.get(user) ?? 1) - 1;
    if (left === 0) this.waitingPerUser.delete(user);
    else this.waitingPerUser.set(user, left);
  }

  /** Refuses everything still waiting (shutdown); requests already running finish. */
  refuseWaiting(error: unknown): void {
    for (const queue of this.queues.values()) for (const waiter of queue) waiter.refuse(error);
    this.queues.clear();
    this.ring.length = 0;
    this.deficit.clear();
    this.waitingPerUser.clear();
    this.visiting = undefined;
    this.waitingCount = 0;
  }

  /** The order waiting requests will be served in, by the same rule `dispatch` applies. */
  private servingOrder(): Waiter[] {
    const queues = new Map([...this.queues].map(([guild, queue]) => [guild, [...queue]]));
    const ring = [...this.ring];
    const deficit = new Map(this.deficit);
    let visiting = this.visiting;
    const order: Waiter[] = [];
    while (ring.length > 0) {
      const step = this.step(queues, ring, deficit, visiting);
      visiting = step.visiting;
      if (step.served) order.push(step.served);
    }
    return order;
  }

  /**
   * One step of deficit round-robin: the server at the head gets its quantum when its visit
   * begins, serves its oldest request if its deficit covers the cost, and otherwise passes the
   * turn to the next server. The quantum is the largest cost in the queue, so every visit that
   * starts with a fresh quantum serves at least one request.
   */
  private step(
    queues: Map<string, Waiter[]>,
    ring: string[],
    deficit: Map<string, number>,
    visiting: string | undefined,
  ): { served: Waiter | undefined; visiting: string | undefined } {
    const guild = ring[0]!;
    const queue = queues.get(guild)!;
    if (visiting !== guild) {
      const quantum = Math.max(...[...queues.values()].flatMap((waiters) => waiters.map((waiter) => waiter.cost)));
      deficit.set(guild, (deficit.get(guild) ?? 0) + quantum);
    }
    const head = queue[0]!;
    if (head.cost <= deficit.get(guild)!) {
      queue.shift();
      deficit.set(guild, deficit.get(guild)! - head.cost);
      if (queue.length === 0) {
        ring.shift();
        queues.delete(guild);
        deficit.delete(guild);
        return { served: head, visiting: undefined };
      }
      return { served: head, visiting: guild };
    }
    ring.push(ring.shift()!);
    return { served: undefined, visiting: undefined };
  }

  private hasRoom(guild: string): boolean {
    return (this.runningPerGuild.get(guild) ?? 0) < this.options.perGuildRunning;
  }

  private dispatch(): void {
    // Passes without serving anyone: past two full turns of the ring, every server left is at its cap.
    let passes = 0;
    while (this.runningCount < this.options.slots && this.ring.length > 0 && passes < 2 * this.ring.length) {
      const guild = this.ring[0]!;
      if (!this.hasRoom(guild)) {
        // Its turn goes to the next server; it keeps its deficit for its next visit.
        this.ring.push(this.ring.shift()!);
        if (this.visiting === guild) this.visiting = undefined;
        passes += 1;
        continue;
      }
      const step = this.step(this.queues, this.ring, this.deficit, this.visiting);
      this.visiting = step.visiting;
      if (!step.served) {
        passes += 1;
        continue;
      }
      passes = 0;
      const { ticket, start } = step.served;
      this.waitingCount -= 1;
      this.forgetWaiting(ticket.user);
      start(this.begin(ticket));
    }
  }

  private begin(ticket: Ticket): () => void {
    this.runningCount += 1;
    this.runningPerGuild.set(ticket.guild, (this.runningPerGuild.get(ticket.guild) ?? 0) + 1);
    const startedAt = this.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.runningCount -= 1;
      const left = (this.runningPerGuild.get(ticket.guild) ?? 1) - 1;
      if (left === 0) this.runningPerGuild.delete(ticket.guild);
      else this.runningPerGuild.set(ticket.guild, left);
      this.learn(ticket.kind, this.now() - startedAt);
      this.dispatch();
      this.notify();
    };
  }

  /** A moving average, so the estimate follows the machine (a cold start, a busy neighbour). */
  private learn(kind: string, ms: number): void {
    const previous = this.costs.get(kind);
    this.costs.set(kind, previous === undefined ? ms : previous * 0.8 + ms * 0.2);
  }

  /** How long until every waiting request has started, with the slots working in parallel. */
  private drainMs(): number {
    let total = 0;
    for (const queue of this.queues.values()) for (const waiter of queue) total += waiter.cost;
    return total / this.options.slots;
  }

  /** Tells each waiting request its place when it changed. */
  private notify(): void {
    // A server runs at most perGuildRunning at once, so the work ahead of a request in its own
    // server's queue can bound its wait more than the work ahead of it in all.
    const guildSlots = Math.min(this.options.perGuildRunning, this.options.slots);
    const aheadInGuild = new Map<string, number>();
    let ahead = 0;
    this.servingOrder().forEach((waiter, index) => {
      const position = index + 1;
      const guild = waiter.ticket.guild;
      const sameGuild = aheadInGuild.get(guild) ?? 0;
      if (position !== waiter.lastPosition) {
        waiter.lastPosition = position;
        waiter.onWait?.({ position, estimatedWaitMs: Math.max(ahead / this.options.slots, sameGuild / guildSlots) });
      }
      ahead += waiter.cost;
      aheadInGuild.set(guild, sameGuild + waiter.cost);
    });
  }
}

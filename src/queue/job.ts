import { z } from 'zod';
import { interactionToRecord } from '../journal/entry.js';

/** The BullMQ queue every front end and worker of one deployment shares. */
export const QUEUE_NAME = 'sightread-jobs';

/**
 * A queued job as it lies in Redis: the journal's durable shape of an interaction (ids, token,
 * command, options with attachments as URL references) and when the front end received it.
 * Workers parse it again: Redis is a boundary like any other.
 */
export const queuedJob = interactionToRecord
  .extend({
    /** Date.now() on the front end when the interaction arrived. */
    receivedAt: z.number().int().nonnegative(),
  })
  .strict();
export type QueuedJob = z.infer<typeof queuedJob>;

/**
 * A job's BullMQ id: its interaction's, so that one interaction is one job. Prefixed, since
 * BullMQ refuses ids that read as integers (a snowflake does).
 */
export const jobIdOf = (interactionId: string): string => `interaction-${interactionId}`;

/** A job on the queue, not runnable until the front end releases it (after the acknowledgement). */
export interface Ticket {
  /** The BullMQ job id. */
  readonly id: string;
  readonly interactionId: string;
}

/** How a worker's run of a job ended (the router's outcome, or why it was not run). */
export type JobResult = 'answered' | 'refused' | 'failed' | 'interrupted' | 'expired' | 'gave_up';

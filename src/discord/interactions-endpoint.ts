import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { InteractionResponseType, MessageFlags } from 'discord-api-types/v10';
import type { Client } from 'discord.js';
import { ConfigError } from '../config/config.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../util/metrics.js';
import { ANSWER_FIELD, type Arrival } from './arrival.js';
import {
  rawCanManageServer,
  rawCommandOptions,
  rawFormValue,
  rawInteraction,
  rawUserId,
  type RawRunInteraction,
} from './raw-interaction.js';
import { tokenResponder, type Responder, type ResponsePayload } from './responder.js';
import type { Router } from './router.js';
import { ReplayGuard, signatureProblem } from './signature.js';
import { snowflakeTime } from '../journal/entry.js';

/** Discord sends interactions of a few KiB; anything near this is not one of them. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * The first response must reach Discord within 3 s of the interaction. The router gives it within
 * about a second (the journal's write is bounded to 1 s); past this, "thinking…" is sent anyway.
 */
const FIRST_RESPONSE_TIMEOUT_MS = 2500;

export interface InteractionsEndpointOptions {
  port: number;
  host: string;
  publicKey: KeyObject;
  router: Router;
  /** Sends everything after the first response through the interaction's token (REST only, no gateway). */
  replyClient: Client;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
}

type Outcome =
  'accepted' | 'ping' | 'autocomplete' | 'refused_signature' | 'refused_replay' | 'refused_body' | 'refused_type';

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        reject(new BodyTooLarge());
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body?: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (response.headersSent) {
      resolve();
      return;
    }
    if (body === undefined) response.writeHead(status).end(resolve);
    else response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body), resolve);
  });
}

/** The first response as Discord takes it in the HTTP reply (no files: those go through the token). */
function inlineMessage(payload: ResponsePayload, ephemeral: boolean): Record<string, unknown> {
  if (payload.files?.length) throw new Error('a first response through HTTP carries no files');
  return {
    type: InteractionResponseType.ChannelMessageWithSource,
    data: {
      content: payload.content,
      ...(payload.embeds ? { embeds: payload.embeds } : {}),
      ...(payload.components ? { components: payload.components } : {}),
      allowed_mentions: payload.allowedMentions,
      ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
    },
  };
}

/**
 * An interaction POSTed to the endpoint: its first response is the HTTP reply, which the router
 * gives by calling `reply` or `defer`; everything after goes through the token over REST.
 */
function httpArrival(
  interaction: RawRunInteraction,
  userId: string,
  firstResponse: (body: Record<string, unknown>) => Promise<boolean>,
  replyClient: Client,
): Arrival {
  let acknowledged = false;
  const respond = async (body: Record<string, unknown>): Promise<void> => {
    if (!(await firstResponse(body))) throw new Error('the first response was already sent');
    acknowledged = true;
  };
  // discord.js's webhook routes need no login: any stateless process can answer through the token.
  const token = tokenResponder(replyClient as Client<true>, interaction.application_id, interaction.token);
  const responder: Responder = {
    get acknowledged() {
      return acknowledged;
    },
    edit: (payload) => token.edit(payload),
    remove: () => token.remove(),
    followUp: (payload) => token.followUp(payload),
  };
  return {
    id: interaction.id,
    applicationId: interaction.application_id,
    token: interaction.token,
    userId,
    guildId: interaction.guild_id ?? null,
    channelId: interaction.channel_id ?? null,
    createdTimestamp: snowflakeTime(interaction.id).getTime(),
    target:
      interaction.type === 3
        ? { kind: 'button', customId: interaction.data.custom_id }
        : interaction.type === 5
          ? { kind: 'form', customId: interaction.data.custom_id, answer: rawFormValue(interaction, ANSWER_FIELD) }
          : { kind: 'command', name: interaction.data.name },
    canManageServer: rawCanManageServer(interaction),
    answersInline: false,
    options: (command) => {
      if (interaction.type !== 2)
        throw new Error('a button or a form runs on the input held for it, not on options of its own');
      return rawCommandOptions(command, interaction);
    },
    reply: (payload, ephemeral) => respond(inlineMessage(payload, ephemeral)),
    defer: () => respond({ type: InteractionResponseType.DeferredChannelMessageWithSource }),
    showModal: (modal) => respond({ type: InteractionResponseType.Modal, data: modal }),
    responder,
  };
}

/**
 * Discord's HTTP interactions endpoint (`POST /interactions`), the stateless alternative to the
 * gateway: every request's Ed25519 signature is checked (401 otherwise, which is also what the
 * developer portal's check expects), PINGs are answered, commands and buttons go to the router
 * like gateway interactions, with their first response ("thinking…", or a private refusal) as the
 * HTTP reply within Discord's 3 s, and the answer through the interaction's token.
 */
export function startInteractionsEndpoint(options: InteractionsEndpointOptions): Promise<Server> {
  const { router, logger, metrics, publicKey, replyClient } = options;
  const now = options.now ?? Date.now;
  const replays = new ReplayGuard();
  const count = (outcome: Outcome): void => metrics.httpInteractions.inc({ outcome });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== '/interactions') return send(response, 404);
    if (request.method !== 'POST') return send(response, 405);
    let body: Buffer;
    try {
      body = await readBody(request, MAX_BODY_BYTES);
    } catch (error) {
      count('refused_body');
      if (error instanceof BodyTooLarge) return send(response, 413, { error: 'body too large' });
      throw error;
    }
    const header = (name: string): string | undefined => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const signature = header('x-signature-ed25519');
    const problem = signatureProblem(publicKey, { signature, timestamp: header('x-signature-timestamp') }, body, now());
    if (problem) {
      count('refused_signature');
      logger.info({ reason: problem, from: request.socket.remoteAddress }, 'refused an interactions request');
      return send(response, 401, { error: 'invalid request signature' });
    }
    if (!replays.admit(signature!.toLowerCase(), now())) {
      count('refused_replay');
      logger.warn({ from: request.socket.remoteAddress }, 'refused a signed interactions request sent again');
      return send(response, 401, { error: 'request already received' });
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      count('refused_body');
      return send(response, 400, { error: 'body is not JSON' });
    }
    const parsed = rawInteraction.safeParse(json);
    if (!parsed.success) {
      count('refused_type');
      const type = (json as { type?: unknown } | null)?.type;
      logger.info(
        { type: typeof type === 'number' ? type : undefined },
        'refused an interaction of a type or shape I do not handle',
      );
      return send(response, 400, { error: 'unsupported interaction' });
    }
    const interaction = parsed.data;
    if (interaction.type === 1) {
      count('ping');
      return send(response, 200, { type: InteractionResponseType.Pong });
    }
    if (interaction.type === 4) {
      count('autocomplete');
      const focused = interaction.data.options.find((option) => option.focused);
      const choices = focused
        ? router.autocompleteChoices(interaction.data.name, focused.name, String(focused.value ?? ''))
        : [];
      return send(response, 200, {
        type: InteractionResponseType.ApplicationCommandAutocompleteResult,
        data: { choices },
      });
    }
    const userId = rawUserId(interaction);
    if (!userId) {
      count('refused_type');
      return send(response, 400, { error: 'interaction without a user' });
    }
    count('accepted');
    let sent = false;
    let settleFirst!: () => void;
    const first = new Promise<void>((resolve) => (settleFirst = resolve));
    const firstResponse = async (reply: Record<string, unknown>): Promise<boolean> => {
      if (sent) return false;
      sent = true;
      await send(response, 200, reply);
      settleFirst();
      return true;
    };
    const arrival = httpArrival(interaction, userId, firstResponse, replyClient);
    const handled = router.accept(arrival);
    const timer = setTimeout(() => {
      logger.warn({ interactionId: interaction.id }, 'no first response in time; sending "thinking…" anyway');
      void firstResponse({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    }, FIRST_RESPONSE_TIMEOUT_MS);
    await Promise.race([first, handled]);
    clearTimeout(timer);
    // The router settled without a first response (it only logs then): Discord must not wait for nothing.
    if (!sent) await firstResponse({ type: InteractionResponseType.DeferredChannelMessageWithSource });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'interactions endpoint failed');
      void send(response, 500);
    });
  });
  return new Promise((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException): void =>
      reject(
        new ConfigError([
          `INTERACTIONS_PORT: could not listen on ${options.host}:${options.port} (${error.code ?? error.message})`,
        ]),
      );
    server.once('error', refused);
    server.listen(options.port, options.host, () => {
      server.off('error', refused);
      resolve(server);
    });
  });
}

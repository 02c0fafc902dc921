import { generateKeyPairSync, randomUUID, sign as cryptoSign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A small Discord emulator for end-to-end tests: the REST routes and gateway events that
 * discord.js needs (facts in ../shared/docs/discord-protocol.md), enforcing the rules real
 * Discord enforces on interactions: a first response within 3 s, one initial response, a
 * 15-minute token, and message/embed limits. It records every REST call. Tests can also make
 * it misbehave as real Discord sometimes does: answer calls with 5xx or 429 or drop their
 * connection (inject), stall attachment downloads (holdDownloads), and drop the gateway
 * connection, with or without a session to resume (dropGateway, invalidateSessions). Members
 * may have Manage Server (interact's `permissions`), submit a form the bot answered with
 * (submit), and the bot may be added to and removed from servers (joinGuild, leaveGuild).
 */

export interface RecordedCall {
  method: string;
  path: string;
  at: number;
  json: unknown;
  files: Array<{ name: string; type: string; bytes: Buffer }>;
  status: number;
}

export interface InteractionRecord {
  id: string;
  token: string;
  /** The member who sent it. */
  userId: string;
  /** The id of the reply's message (@original): the same for its first response and every edit of it. */
  messageId: string;
  createdAt: number;
  /** Time of the first (initial) response, its type and flags. */
  initial?: { at: number; type: number; flags: number; data: unknown; files: RecordedCall['files'] };
  /** Every PATCH to @original, in order. */
  edits: Array<{ at: number; json: Record<string, unknown>; files: RecordedCall['files'] }>;
  followUps: Array<{ at: number; json: Record<string, unknown> }>;
  deleted: boolean;
  rejections: Array<{ code: number; message: string }>;
}

/** Who sends an interaction, where, and on what. */
export interface InteractionOptions {
  userId?: string;
  /** 2 a command (default), 3 a button press, 5 a submitted form. */
  type?: number;
  guildId?: string;
  message?: Record<string, unknown>;
  /** The member's permissions in the channel, a bit set as a decimal string (default: no Manage Server). */
  permissions?: string;
}

export interface EmulatorOptions {
  /** How long after an interaction its first response is accepted (Discord: 3 s). */
  responseDeadlineMs?: number;
  /** How long an interaction token accepts edits and follow-ups (Discord: 15 minutes). */
  tokenLifetimeMs?: number;
  /**
   * The clock, in ms, for every recorded time and every deadline and expiry check; Date.now
   * unless a test passes a clock it moves by hand, to cross a deadline without waiting for it.
   */
  now?: () => number;
}

/** A failure to answer some REST calls with instead of the normal response. */
export interface FaultSpec {
  /** The calls it applies to: their method (any when left out), path and, optionally, anything else. */
  method?: string;
  path: RegExp;
  when?: (call: RecordedCall) => boolean;
  /** An HTTP status (with a Retry-After header and body for a 429), or 'drop': the connection is destroyed unanswered. */
  answer: { status: number; retryAfterSeconds?: number } | 'drop';
  /** At most this many calls. */
  times?: number;
  /** For this long, on the emulator's clock, from the first call it answers. */
  forMs?: number;
}

/** An injected fault and the calls it has answered so far. */
export class InjectedFault {
  readonly answered: RecordedCall[] = [];
  constructor(
    readonly spec: FaultSpec,
    private readonly now: () => number,
  ) {}

  applies(call: RecordedCall): boolean {
    const { method, path, when, times, forMs } = this.spec;
    if (method !== undefined && method !== call.method) return false;
    if (!path.test(call.path) || (when && !when(call))) return false;
    if (times !== undefined && this.answered.length >= times) return false;
    const first = this.answered[0];
    return forMs === undefined || first === undefined || this.now() - first.at < forMs;
  }
}

const APP_ID = '100000000000000001';
export const GUILD_ID = '200000000000000002';
export const CHANNEL_ID = '300000000000000003';
const USER = {
  id: '400000000000000004',
  username: 'student',
  discriminator: '0',
  global_name: 'Student',
  avatar: null,
};
/** A member's usual permissions: reading, writing, attaching, using commands; not Manage Server (1 << 5). */
const MEMBER_PERMISSIONS = '2248473465835073';
/** The same with Manage Server. */
export const MANAGER_PERMISSIONS = String(BigInt(MEMBER_PERMISSIONS) | (1n << 5n));

const BOT_USER = { id: APP_ID, username: 'sightread', discriminator: '0', bot: true, avatar: null };

/**
 * Snowflakes as Discord makes them: milliseconds since Discord's epoch (2015) in the top 42
 * bits, so that an interaction's id says when it was created (the bot's journal reads its
 * token's age from it); a counter keeps ids unique and increasing within a millisecond.
 */
const DISCORD_EPOCH_MS = 1_420_070_400_000n;
let lastSnowflake = 0n;
const nextId = (): string => {
  const fromTime = (BigInt(Date.now()) - DISCORD_EPOCH_MS) << 22n;
  lastSnowflake = fromTime > lastSnowflake ? fromTime : lastSnowflake + 1n;
  return String(lastSnowflake);
};

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** JSON or multipart/form-data (payload_json + files[n]), as discord.js sends them. */
async function parseBody(
  request: IncomingMessage,
  body: Buffer,
): Promise<{ json: unknown; files: RecordedCall['files'] }> {
  const type = request.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(body, { headers: { 'content-type': type } }).formData();
    const files: RecordedCall['files'] = [];
    let json: unknown = {};
    for (const [name, value] of form.entries()) {
      if (name === 'payload_json') json = JSON.parse(String(value));
      else if (typeof value !== 'string')
        files.push({ name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
    }
    return { json, files };
  }
  return { json: body.length ? (JSON.parse(body.toString('utf8')) as unknown) : undefined, files: [] };
}

/** The checks real Discord applies to a message body; returns an error message or undefined. */
export function messageLimitError(json: Record<string, unknown>): string | undefined {
  const content = typeof json.content === 'string' ? json.content : '';
  if (content.length > 2000) return 'content: must be 2000 or fewer in length';
  const embeds = (json.embeds as Array<Record<string, unknown>> | undefined) ?? [];
  if (embeds.length > 10) return 'embeds: must be 10 or fewer';
  let total = 0;
  for (const embed of embeds) {
    const title = String(embed.title ?? '');
    const description = String(embed.description ?? '');
    const footer = String((embed.footer as { text?: string } | undefined)?.text ?? '');
    const fields = (embed.fields as Array<{ name: string; value: string }> | undefined) ?? [];
    if (title.length > 256) return 'embeds.title: must be 256 or fewer in length';
    if (description.length > 4096) return 'embeds.description: must be 4096 or fewer in length';
    if (footer.length > 2048) return 'embeds.footer.text: must be 2048 or fewer in length';
    if (fields.length > 25) return 'embeds.fields: must be 25 or fewer';
    for (const field of fields) {
      if (field.name.length > 256 || field.name.length === 0) return 'embeds.fields.name: must be 1-256 in length';
      if (field.value.length > 1024 || field.value.length === 0) return 'embeds.fields.value: must be 1-1024 in length';
    }
    total +=
      title.length +
      description.length +
      footer.length +
      fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
  }
  if (total > 6000) return 'embeds: total characters must be 6000 or fewer';
  return undefined;
}

export class DiscordEmulator {
  readonly calls: RecordedCall[] = [];
  readonly interactions = new Map<string, InteractionRecord>();
  readonly assets = new Map<string, { type: string; bytes: Buffer; chunked: boolean }>();
  readonly registered = new Map<string, unknown[]>();
  identified = 0;
  /** RESUME payloads answered with RESUMED. */
  resumed = 0;
  private readonly server: Server;
  /** Gateway sessions that a RESUME may continue. */
  private readonly sessions = new Set<string>();
  private readonly faults: InjectedFault[] = [];
  private downloadsHeld: Promise<void> | undefined;
  private readonly gateway: WebSocketServer;
  private sockets = new Set<WebSocket>();
  private sequence = 0;
  private readonly deadlineMs: number;
  private readonly tokenLifetimeMs: number;
  private readonly now: () => number;
  port = 0;

  constructor(options: EmulatorOptions = {}) {
    this.deadlineMs = options.responseDeadlineMs ?? 3000;
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 15 * 60 * 1000;
    this.now = options.now ?? Date.now;
    // A client killed mid-request (the crash tests SIGKILL the bot) aborts the body being read: that request is simply gone.
    this.server = createServer(
      (request, response) => void this.route(request, response).catch(() => response.destroy()),
    );
    this.gateway = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (request, socket, head) =>
      this.gateway.handleUpgrade(request, socket, head, (ws) => this.connect(ws)),
    );
  }

  get appId(): string {
    return APP_ID;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Serves bytes as if from Discord's CDN and returns their URL; `chunked` omits content-length. */
  host(name: string, type: string, bytes: Buffer, chunked = false): string {
    const id = nextId();
    this.assets.set(`${id}/${name}`, { type, bytes, chunked });
    return `http://127.0.0.1:${this.port}/attachments/${id}/${name}`;
  }

  /** From now on, answers the calls `spec` describes with its failure instead, while it lasts. */
  inject(spec: FaultSpec): InjectedFault {
    const fault = new InjectedFault(spec, this.now);
    this.faults.push(fault);
    return fault;
  }

  /** Stalls every attachment download until the returned function is called. */
  holdDownloads(): () => void {
    let release!: () => void;
    this.downloadsHeld = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.downloadsHeld = undefined;
      release();
    };
  }

  /**
   * Closes every gateway connection: with `code`, or without a close frame (1006, as when the
   * network fails) when it is left out. The client may resume its session unless
   * invalidateSessions was called first.
   */
  dropGateway(code?: number): void {
    for (const ws of this.sockets) {
      if (code === undefined) ws.terminate();
      else ws.close(code, 'emulator: connection dropped');
    }
  }

  /** Forgets every gateway session, so that the next RESUME is answered with INVALID_SESSION. */
  invalidateSessions(): void {
    this.sessions.clear();
  }

  private send(ws: WebSocket, payload: Record<string, unknown>): void {
    ws.send(JSON.stringify(payload));
  }

  private dispatch(t: string, d: unknown): void {
    this.sequence += 1;
    for (const ws of this.sockets) this.send(ws, { op: 0, t, s: this.sequence, d });
  }

  private connect(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    this.send(ws, { op: 10, d: { heartbeat_interval: 41250 } });
    ws.on('message', (raw) => {
      const payload = JSON.parse(String(raw)) as { op: number; d: unknown };
      if (payload.op === 1) this.send(ws, { op: 11 });
      else if (payload.op === 2) {
        this.identified += 1;
        const sessionId = randomUUID();
        this.sessions.add(sessionId);
        this.dispatch('READY', {
          v: 10,
          user: BOT_USER,
          guilds: [{ id: GUILD_ID, unavailable: true }],
          session_id: sessionId,
          resume_gateway_url: `ws://127.0.0.1:${this.port}`,
          application: { id: APP_ID, flags: 0 },
        });
        this.dispatch('GUILD_CREATE', this.guildObject(GUILD_ID));
      } else if (payload.op === 6) {
        const sessionId = (payload.d as { session_id?: unknown } | null)?.session_id;
        if (typeof sessionId === 'string' && this.sessions.has(sessionId)) {
          this.resumed += 1;
          this.sequence += 1;
          this.send(ws, { op: 0, t: 'RESUMED', s: this.sequence, d: {} });
        } else this.send(ws, { op: 9, d: false });
      }
    });
  }

  /** A server as GUILD_CREATE carries it: one text channel, the @everyone role, the emulator's user as owner. */
  private guildObject(id: string): Record<string, unknown> {
    return {
      id,
      name: 'Study group',
      unavailable: false,
      channels: [{ id: CHANNEL_ID, type: 0, name: 'general', guild_id: id }],
      members: [],
      roles: [
        {
          id,
          name: '@everyone',
          permissions: '0',
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
        },
      ],
      owner_id: USER.id,
      member_count: 1,
      joined_at: new Date().toISOString(),
      emojis: [],
      stickers: [],
      features: [],
      threads: [],
      stage_instances: [],
      guild_scheduled_events: [],
      presences: [],
      voice_states: [],
    };
  }

  /** The bot is added to a server (GUILD_CREATE after READY: discord.js emits guildCreate). */
  joinGuild(guildId: string): void {
    this.dispatch('GUILD_CREATE', this.guildObject(guildId));
  }

  /**
   * GUILD_DELETE: the bot was removed from the server, or, with `unavailable`, the server is in
   * an outage (Discord sends `unavailable: true` then, and the bot is still a member).
   */
  leaveGuild(guildId: string, options: { unavailable?: boolean } = {}): void {
    this.dispatch('GUILD_DELETE', { id: guildId, ...(options.unavailable ? { unavailable: true } : {}) });
  }

  /** Sends a slash command (type 1) or message context-menu command (type 3); returns its record. */
  /** An interaction from a member (`userId`) of a server (`guildId`, the emulator's own by default). */
  interact(data: Record<string, unknown>, options: InteractionOptions = {}): InteractionRecord {
    const { record, payload } = this.newInteraction(data, options);
    this.dispatch('INTERACTION_CREATE', payload);
    return record;
  }

  /** A slash command whose one option is an image attachment (/classify, /stress…), as Discord resolves it. */
  interactWithImage(
    name: string,
    image: ReturnType<DiscordEmulator['attachment']>,
    options: InteractionOptions = {},
  ): InteractionRecord {
    return this.interact(
      {
        name,
        type: 1,
        options: [{ name: 'image', type: 11, value: image.id }],
        resolved: { attachments: { [image.id]: image } },
      },
      options,
    );
  }

  /** An interaction as Discord sends it (gateway INTERACTION_CREATE, or the body of an HTTP interaction), and its record. */
  private newInteraction(
    data: Record<string, unknown>,
    options: InteractionOptions,
  ): { record: InteractionRecord; payload: Record<string, unknown> } {
    const guild = options.guildId ?? GUILD_ID;
    const id = nextId();
    const token = `token-${randomUUID()}`;
    const record: InteractionRecord = {
      id,
      token,
      userId: options.userId ?? USER.id,
      messageId: nextId(),
      createdAt: this.now(),
      edits: [],
      followUps: [],
      deleted: false,
      rejections: [],
    };
    this.interactions.set(token, record);
    const user = { ...USER, id: options.userId ?? USER.id };
    const payload = {
      id,
      application_id: APP_ID,
      type: options.type ?? 2,
      token,
      version: 1,
      guild_id: guild,
      channel_id: CHANNEL_ID,
      channel: { id: CHANNEL_ID, type: 0, guild_id: guild, name: 'general' },
      member: {
        user,
        roles: [],
        permissions: options.permissions ?? MEMBER_PERMISSIONS,
        joined_at: new Date().toISOString(),
        deaf: false,
        mute: false,
        flags: 0,
      },
      app_permissions: '2248473465835073',
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': guild },
      context: 0,
      attachment_size_limit: 10 * 1024 * 1024,
      data: options.type === 3 || options.type === 5 ? data : { id: nextId(), ...data },
      ...(options.message ? { message: options.message } : {}),
    };
    return { record, payload };
  }

  /** HTTP interactions whose reply (their first response) has not been read yet, by token. */
  private readonly firstResponsesInFlight = new Map<string, Promise<void>>();

  /** The application's Ed25519 key pair, as Discord holds it to sign what it POSTs to an interactions endpoint. */
  private readonly signingKeys = generateKeyPairSync('ed25519');

  /** The public key as the developer portal shows it (DISCORD_PUBLIC_KEY): 64 hex digits. */
  get publicKeyHex(): string {
    return this.signingKeys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  }

  /** A signature of `timestamp + body` with the application's key, as the X-Signature-Ed25519 header carries it. */
  sign(timestamp: string, body: string | Buffer): string {
    return cryptoSign(
      null,
      Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]),
      this.signingKeys.privateKey,
    ).toString('hex');
  }

  /**
   * POSTs a body to an interactions endpoint with Discord's signature headers (correct ones
   * unless the test overrides them); the reply as it came.
   */
  async postSigned(
    endpoint: string,
    body: string,
    overrides: { timestamp?: string; signature?: string; omit?: boolean } = {},
  ): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
    const timestamp = overrides.timestamp ?? String(Math.floor(this.now() / 1000));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!overrides.omit) {
      headers['x-signature-ed25519'] = overrides.signature ?? this.sign(timestamp, body);
      headers['x-signature-timestamp'] = timestamp;
    }
    const response = await fetch(endpoint, { method: 'POST', headers, body });
    const text = await response.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  }

  /**
   * An interaction sent the way Discord sends it to an HTTP interactions endpoint: signed and
   * POSTed; the HTTP reply is its first response (accepted only within 3 s, as Discord does).
   */
  interactOverHttp(
    endpoint: string,
    data: Record<string, unknown>,
    options: InteractionOptions = {},
  ): { record: InteractionRecord; response: Promise<{ status: number; json: Record<string, unknown> | undefined }> } {
    const { record, payload } = this.newInteraction(data, options);
    const response = this.postSigned(endpoint, JSON.stringify(payload)).then((reply) => {
      this.firstResponsesInFlight.delete(record.token);
      const type = Number(reply.json?.type);
      // 4 a message, 5 "thinking…", 9 a form (MODAL): each a first response.
      if (reply.status === 200 && (type === 4 || type === 5 || type === 9)) {
        if (this.now() - record.createdAt > this.deadlineMs)
          record.rejections.push({ code: 10062, message: 'Unknown interaction (first response after 3 s)' });
        else {
          const replyData = (reply.json?.data ?? {}) as Record<string, unknown>;
          record.initial = { at: this.now(), type, flags: Number(replyData.flags ?? 0), data: replyData, files: [] };
        }
      }
      return reply;
    });
    // Discord has the HTTP reply before the bot's next call: webhook calls wait for it here too.
    this.firstResponsesInFlight.set(
      record.token,
      response.then(
        () => undefined,
        () => undefined,
      ),
    );
    return { record, response };
  }

  /**
   * A member presses a button (a MESSAGE_COMPONENT interaction, type 3) on the message an
   * interaction's reply became: Discord sends the button's custom_id and the whole message.
   */
  press(on: InteractionRecord, customId: string, options: { userId?: string } = {}): InteractionRecord {
    const reply = on.edits.at(-1)?.json ?? (on.initial?.data as Record<string, unknown> | undefined) ?? {};
    return this.interact(
      { custom_id: customId, component_type: 2 },
      { ...options, type: 3, message: { ...this.messageObject(reply, []), components: reply.components ?? [] } },
    );
  }

  /**
   * A member submits the form (modal) an interaction answered with (type 9): a MODAL_SUBMIT
   * interaction (type 5) with the form's custom_id and each text field's value.
   */
  submit(
    on: InteractionRecord,
    values: Record<string, string>,
    options: { userId?: string; guildId?: string; permissions?: string } = {},
  ): InteractionRecord {
    return this.interact(this.formSubmission(on, values), { ...options, type: 5 });
  }

  /** The same submission, signed and POSTed to an HTTP interactions endpoint. */
  submitOverHttp(
    endpoint: string,
    on: InteractionRecord,
    values: Record<string, string>,
    options: { userId?: string; guildId?: string; permissions?: string } = {},
  ): ReturnType<DiscordEmulator['interactOverHttp']> {
    return this.interactOverHttp(endpoint, this.formSubmission(on, values), { ...options, type: 5 });
  }

  /** The data of a MODAL_SUBMIT for the form an interaction was answered with. */
  private formSubmission(on: InteractionRecord, values: Record<string, string>): Record<string, unknown> {
    if (on.initial?.type !== 9) throw new Error('emulator: that interaction was not answered with a form');
    const form = on.initial.data as { custom_id: string };
    return {
      custom_id: form.custom_id,
      components: Object.entries(values).map(([customId, value]) => ({
        type: 1,
        components: [{ type: 4, custom_id: customId, value }],
      })),
    };
  }

  /** An attachment served by this emulator; a wrong `declaredSize` is also served without content-length, as a lying upload would be. */
  attachment(
    name: string,
    type: string,
    bytes: Buffer,
    declaredSize = bytes.length,
  ): { id: string; filename: string; content_type: string; size: number; url: string; proxy_url: string } {
    const url = this.host(name, type, bytes, declaredSize !== bytes.length);
    return { id: nextId(), filename: name, content_type: type, size: declaredSize, url, proxy_url: url };
  }

  message(content: string, attachments: ReturnType<DiscordEmulator['attachment']>[] = []): Record<string, unknown> {
    return {
      id: nextId(),
      channel_id: CHANNEL_ID,
      author: USER,
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments,
      embeds: [],
      pinned: false,
      type: 0,
    };
  }

  private reply(response: ServerResponse, call: RecordedCall, status: number, body?: unknown): void {
    call.status = status;
    if (body === undefined) {
      response.writeHead(status).end();
      return;
    }
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private error(
    response: ServerResponse,
    call: RecordedCall,
    status: number,
    code: number,
    message: string,
    record?: InteractionRecord,
  ): void {
    record?.rejections.push({ code, message });
    this.reply(response, call, status, {
      code,
      message,
      ...(code === 50035 ? { errors: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message }] } } : {}),
    });
  }

  private messageObject(json: Record<string, unknown>, files: RecordedCall['files']): Record<string, unknown> {
    return {
      ...this.message(String(json.content ?? '')),
      author: BOT_USER,
      embeds: json.embeds ?? [],
      attachments: files.map((file) => ({
        id: nextId(),
        filename: file.name,
        size: file.bytes.length,
        url: `http://127.0.0.1:${this.port}/x/${file.name}`,
        proxy_url: '',
        content_type: file.type,
      })),
      flags: json.flags ?? 0,
    };
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${this.port}`);
    const path = decodeURIComponent(url.pathname);
    const body = await readBody(request);
    const parsed = await parseBody(request, body).catch(() => ({ json: undefined, files: [] }));
    const call: RecordedCall = {
      method: request.method ?? 'GET',
      path,
      at: this.now(),
      json: parsed.json,
      files: parsed.files,
      status: 0,
    };
    this.calls.push(call);
    const json = (parsed.json ?? {}) as Record<string, unknown>;

    const fault = this.faults.find((candidate) => candidate.applies(call));
    if (fault) {
      fault.answered.push(call);
      const { answer } = fault.spec;
      if (answer === 'drop') {
        request.socket.destroy();
        return;
      }
      if (answer.status === 429) {
        const retryAfter = answer.retryAfterSeconds ?? 1;
        call.status = 429;
        response
          .writeHead(429, { 'content-type': 'application/json', 'retry-after': String(retryAfter) })
          .end(JSON.stringify({ message: 'You are being rate limited.', retry_after: retryAfter, global: false }));
        return;
      }
      return this.reply(response, call, answer.status, { message: `${answer.status}: emulated failure`, code: 0 });
    }

    if (path.startsWith('/attachments/')) {
      if (this.downloadsHeld) await this.downloadsHeld;
      const asset = this.assets.get(path.slice('/attachments/'.length));
      if (!asset) return this.reply(response, call, 404, { message: 'Not Found', code: 0 });
      call.status = 200;
      response.writeHead(
        200,
        asset.chunked
          ? { 'content-type': asset.type }
          : { 'content-type': asset.type, 'content-length': asset.bytes.length },
      );
      // Chunked: send in pieces so the bot must enforce its cap while streaming.
      if (asset.chunked) {
        for (let offset = 0; offset < asset.bytes.length; offset += 16 * 1024)
          response.write(asset.bytes.subarray(offset, offset + 16 * 1024));
        response.end();
      } else response.end(asset.bytes);
      return;
    }
    if (path === '/api/v10/gateway/bot') {
      return this.reply(response, call, 200, {
        url: `ws://127.0.0.1:${this.port}`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
    }
    const commandsRoute = /^\/api\/v10\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path);
    if (commandsRoute) {
      const scope = commandsRoute[2] ?? 'global';
      if (request.method === 'GET') return this.reply(response, call, 200, this.registered.get(scope) ?? []);
      if (request.method === 'PUT') {
        const list = (parsed.json as Array<Record<string, unknown>>).map((command) => ({
          id: nextId(),
          application_id: APP_ID,
          version: nextId(),
          ...command,
        }));
        this.registered.set(scope, list);
        return this.reply(response, call, 200, list);
      }
    }
    const callback = /^\/api\/v10\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    if (callback && request.method === 'POST') {
      const record = this.interactions.get(callback[2]!);
      if (!record || record.id !== callback[1]) return this.error(response, call, 404, 10062, 'Unknown interaction');
      if (record.initial)
        return this.error(response, call, 400, 40060, 'Interaction has already been acknowledged.', record);
      if (this.now() - record.createdAt > this.deadlineMs)
        return this.error(response, call, 404, 10062, 'Unknown interaction', record);
      const data = (json.data ?? {}) as Record<string, unknown>;
      const flags = Number(data.flags ?? 0);
      if (json.type === 5 && (flags & ~64) !== 0)
        return this.error(
          response,
          call,
          400,
          50035,
          'Invalid Form Body: deferred responses may only set EPHEMERAL',
          record,
        );
      if (json.type === 9) {
        // A form: a custom_id, a title of at most 45 characters and 1-5 rows of components.
        const rows = Array.isArray(data.components) ? data.components.length : 0;
        const title = typeof data.title === 'string' ? data.title : '';
        if (typeof data.custom_id !== 'string' || title.length === 0 || title.length > 45 || rows < 1 || rows > 5)
          return this.error(
            response,
            call,
            400,
            50035,
            'Invalid Form Body: a modal needs custom_id, title and 1-5 rows',
            record,
          );
      }
      if (json.type === 4) {
        const problem = messageLimitError(data);
        if (problem) return this.error(response, call, 400, 50035, `Invalid Form Body: ${problem}`, record);
      }
      record.initial = { at: this.now(), type: Number(json.type), flags, data, files: parsed.files };
      return url.searchParams.get('with_response') === 'true'
        ? this.reply(response, call, 200, {
            interaction: { id: record.id, type: 2, response_message_id: record.messageId },
            // A message response (4) comes back with the message it made.
            resource: {
              type: json.type,
              ...(json.type === 4
                ? { message: { ...this.messageObject(data, parsed.files), id: record.messageId } }
                : {}),
            },
          })
        : this.reply(response, call, 204);
    }
    const webhook = /^\/api\/v10\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original))?$/.exec(path);
    if (webhook) {
      await this.firstResponsesInFlight.get(webhook[2]!);
      const record = this.interactions.get(webhook[2]!);
      if (!record) return this.error(response, call, 404, 10015, 'Unknown Webhook');
      if (this.now() - record.createdAt > this.tokenLifetimeMs)
        return this.error(response, call, 401, 50027, 'Invalid Webhook Token', record);
      if (!record.initial) return this.error(response, call, 404, 10015, 'Unknown Webhook', record);
      const problem = request.method === 'DELETE' ? undefined : messageLimitError(json);
      if (problem) return this.error(response, call, 400, 50035, `Invalid Form Body: ${problem}`, record);
      if (request.method === 'PATCH' && webhook[3]) {
        record.edits.push({ at: this.now(), json, files: parsed.files });
        return this.reply(response, call, 200, { ...this.messageObject(json, parsed.files), id: record.messageId });
      }
      if (request.method === 'DELETE' && webhook[3]) {
        record.deleted = true;
        return this.reply(response, call, 204);
      }
      if (request.method === 'POST' && !webhook[3]) {
        record.followUps.push({ at: this.now(), json });
        return this.reply(response, call, 200, this.messageObject(json, parsed.files));
      }
    }
    this.reply(response, call, 404, { message: `emulator: no route for ${request.method} ${path}`, code: 0 });
  }
}

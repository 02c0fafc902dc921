import { cpus } from 'node:os';
import { z } from 'zod';

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0),
);

/** Variables whose values must never be printed, logged or echoed in an error. */
export const SECRET_VARIABLES = ['DISCORD_TOKEN', 'LLM_API_KEY', 'DATABASE_URL', 'REDIS_URL'] as const;

const schema = z
  .object({
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    MODELS_DIR: z.string().min(1).default('models/cache'),
    MODELS_MANIFEST: z.string().min(1).default('models/manifest.json'),
    HF_ENDPOINT: z.url().default('https://huggingface.co'),
    MODEL_DOWNLOADS: booleanString.default(true),
    DOWNLOAD_TIMEOUT_MS: positiveInt.default(30_000),

    EXECUTION_PROVIDER: z.enum(['auto', 'cpu', 'cuda', 'webgpu']).default('auto'),
    MODEL_PRECISION: z.enum(['q8', 'fp32', 'fp16']).optional(),
    ORT_INTRA_OP_THREADS: positiveInt.default(Math.max(1, cpus().length)),
    ORT_INTER_OP_THREADS: positiveInt.default(1),
    ORT_WORKERS: positiveInt.max(64).default(1),
    BATCH_MAX_SIZE: positiveInt.max(256).default(8),
    BATCH_MAX_WAIT_MS: nonNegativeInt.max(1000).default(4),
    QUEUE_MAX: positiveInt.default(64),
    INFERENCE_TIMEOUT_MS: positiveInt.default(30_000),

    VISION_CNN_MODEL: z.string().min(1).default('resnet-50'),
    VISION_VIT_MODEL: z.string().min(1).default('vit-base-patch16-224'),
    CLIP_MODEL: z.string().min(1).default('clip-vit-base-patch32'),
    CLIP_PROMPT_TEMPLATE: z
      .string()
      .default('a photo of a {}')
      .refine((value) => value.includes('{}'), 'must contain {} where the label goes'),
    CLIP_TEXT_CACHE_SIZE: positiveInt.default(512),
    SENTIMENT_MODEL: z.string().min(1).default('distilbert-sst2'),
    FILL_MASK_MODEL: z.string().min(1).default('bert-base-uncased-mlm'),

    IMAGE_MAX_BYTES: positiveInt.default(25 * 1024 * 1024),
    IMAGE_MAX_PIXELS: positiveInt.default(50_000_000),
    IMAGE_DECODE_TIMEOUT_MS: positiveInt.default(10_000),
    TEXT_MAX_CHARS: positiveInt.default(4000),

    DISCORD_TOKEN: z.string().min(1).optional(),
    DISCORD_APP_ID: z
      .string()
      .regex(/^\d{5,25}$/, 'must be the numeric application id')
      .optional(),
    DISCORD_GUILD_ID: z
      .string()
      .regex(/^\d{5,25}$/, 'must be a numeric server id')
      .optional(),
    DISCORD_API_URL: z.url().default('https://discord.com/api'),
    // Receive interactions over HTTP (Discord's "Interactions Endpoint URL") instead of the gateway.
    INTERACTIONS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    // Loopback by default: Discord reaches the endpoint through an HTTPS reverse proxy.
    INTERACTIONS_HOST: z
      .union([z.ipv4(), z.ipv6()], 'must be an IP address, e.g. 127.0.0.1 or 0.0.0.0')
      .default('127.0.0.1'),
    // The application's public key (developer portal → General Information), for the signatures.
    DISCORD_PUBLIC_KEY: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be the 64 hex digits of the public key in the developer portal')
      .optional(),
    ATTACHMENT_HOSTS: csv.default(['cdn.discordapp.com', 'media.discordapp.net']),
    ATTACHMENT_TIMEOUT_MS: positiveInt.default(15_000),
    // Plain http and any port, for a local test server only: Discord's CDN is https on 443.
    ATTACHMENT_ALLOW_INSECURE: booleanString.default(false),
    COOLDOWN_SECONDS: nonNegativeInt.default(5),
    // Requests running model inference at once (the rest wait their turn, server by server), and
    // how many one member may have waiting.
    INFERENCE_SLOTS: positiveInt.max(256).default(8),
    MEMBER_MAX_WAITING: positiveInt.default(3),
    // Requests one server may have running at once, so a class's burst leaves slots for the next server.
    SERVER_MAX_RUNNING: positiveInt.default(2),
    // How long a request may take to be answered in its first response ("thinking…" never shows,
    // and nothing needs journaling); slower ones are recorded, acknowledged, then edited. Discord
    // wants the first response within 3 s, which also covers the journal's write (≤ 1 s) and travel.
    INLINE_ANSWER_MS: nonNegativeInt.max(1500).default(250),
    SHUTDOWN_GRACE_SECONDS: positiveInt.default(10),
    HEALTH_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    // Loopback by default: /healthz and /metrics have no authentication.
    HEALTH_HOST: z.union([z.ipv4(), z.ipv6()], 'must be an IP address, e.g. 127.0.0.1 or 0.0.0.0').default('127.0.0.1'),

    LLM_PROVIDER: z.enum(['none', 'openai', 'ollama']).default('none'),
    LLM_BASE_URL: z.url().optional(),
    LLM_MODEL: z.string().min(1).optional(),
    LLM_API_KEY: z.string().min(1).optional(),
    LLM_TIMEOUT_MS: positiveInt.default(20_000),

    DATA_DIR: z.string().min(1).default('data/'),
    DATABASE_URL: z
      .string()
      .refine((value) => /^postgres(ql)?:\/\/[^/\s]/.test(value) && URL.canParse(value), {
        error: 'must be a postgres:// or postgresql:// URL',
      })
      .optional(),
    /**
     * Redis for the job queue (BullMQ): front ends put each accepted job there and
     * `npm run start:worker` processes answer it. Unset: everything runs in this one process.
     */
    REDIS_URL: z
      .string()
      .refine((value) => /^rediss?:\/\/[^/\s]/.test(value) && URL.canParse(value), {
        error: 'must be a redis:// or rediss:// URL',
      })
      .optional(),
    /** Times a queued job may be started (a worker that dies mid-job counts one) before its user is told it failed. */
    QUEUE_MAX_ATTEMPTS: positiveInt.max(20).default(3),
    /** How long a worker's claim on a job lasts unless renewed: a dead worker's jobs go to another after this. */
    QUEUE_LOCK_MS: positiveInt.min(1000).max(600_000).default(30_000),
    /**
     * A job is queued delayed this long before its interaction is acknowledged, and made runnable
     * at once after: if the front end dies in between, it starts on its own after this.
     */
    QUEUE_PROMOTE_AFTER_MS: positiveInt.min(3000).max(600_000).default(10_000),
    /** Jobs one worker takes at once (they are batched at the models); default: BATCH_MAX_SIZE. */
    WORKER_CONCURRENCY: positiveInt.max(256).optional(),
    /** Buttons under results that run an experiment on the same input (false: plain replies). */
    BUTTONS_ENABLED: booleanString.default(true),
    /** Record accepted interactions so that a crash or restart loses none (off: a restart asks users to run them again). */
    JOURNAL_ENABLED: booleanString.default(true),
    JOURNAL_RETENTION_HOURS: nonNegativeInt.max(24 * 366).default(24),

    /** /teach's embedder: `clip` (CLIP's vision tower), `cnn` (the CNN's pooled penultimate features) or a manifest id. */
    TEACH_EMBEDDER: z.string().min(1).default('clip'),
    TEACH_MAX_CLASSES: positiveInt.max(100).default(20),
    TEACH_MAX_EXAMPLES_PER_CLASS: positiveInt.max(1000).default(32),
    /** Per-server cap on what /teach stores (embeddings and the probe), in KiB. */
    TEACH_MAX_SERVER_KIB: positiveInt.default(4096),

    /** Days a server's stored data (teach examples and probes, quiz scores) is kept; /settings may shorten it. */
    SERVER_DATA_RETENTION_DAYS: positiveInt.max(365).default(365),
    /** Hours after the bot is removed from a server before that server's data is deleted (a re-invite within it keeps it). */
    FORGET_GRACE_HOURS: nonNegativeInt.max(24 * 365).default(72),
    /** How long a /quiz round takes answers before its reveal; within the 15 minutes the reply's token lives. */
    QUIZ_ROUND_SECONDS: positiveInt.min(2).max(600).default(30),
  })
  .superRefine((env, ctx) => {
    if (env.INTERACTIONS_PORT !== undefined && !env.DISCORD_PUBLIC_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['DISCORD_PUBLIC_KEY'],
        message: 'is required with INTERACTIONS_PORT: every request Discord sends is checked against it',
      });
    }
    if (env.LLM_PROVIDER !== 'none' && !env.LLM_MODEL) {
      ctx.addIssue({
        code: 'custom',
        path: ['LLM_MODEL'],
        message: `is required when LLM_PROVIDER=${env.LLM_PROVIDER}`,
      });
    }
    if (env.LLM_PROVIDER === 'openai' && !env.LLM_BASE_URL && !env.LLM_API_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['LLM_BASE_URL'],
        message: 'or LLM_API_KEY is required when LLM_PROVIDER=openai',
      });
    }
  });

export type Config = Readonly<z.infer<typeof schema>>;

/** Start-up stops with this: one line per problem, each naming its variable, never a value. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parses an environment into a frozen Config; empty strings count as unset, as in most .env files. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const known = Object.keys(schema.shape);
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => known.includes(key) && value !== undefined && value.trim() !== ''),
  );
  const result = schema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const variable = issue.path.join('.') || '(environment)';
        return `${variable}: ${issue.message.replace(/received .*/i, 'got an invalid value')}`;
      }),
    );
  }
  return Object.freeze(result.data);
}

/**
 * The effective precision: int8 on CPU where the hub ships it (dynamically quantised for the
 * CPU's integer kernels), full precision on a GPU.
 */
export function preferredPrecision(config: Config): 'q8' | 'fp32' | 'fp16' {
  return (
    config.MODEL_PRECISION ??
    (config.EXECUTION_PROVIDER === 'cuda' || config.EXECUTION_PROVIDER === 'webgpu' ? 'fp32' : 'q8')
  );
}

/**
 * Credentials by their shape, for secrets sightread was never told about (a key another process
 * put in a URL, a provider echoing a different key): OpenAI-style `sk-…` keys, even partly masked
 * by the provider, bearer tokens, and tokens shaped like Discord's.
 */
const SECRET_SHAPES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_*.-]{8,}/g, '[API key redacted]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/gi, 'Bearer [token redacted]'],
  [/\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}/g, '[Discord token redacted]'],
];

/** The password inside a database URL: it can surface on its own (a driver quoting its settings). */
function urlPassword(url: string | undefined): string | undefined {
  if (!url || !URL.canParse(url)) return undefined;
  const password = new URL(url).password;
  return password ? decodeURIComponent(password) : undefined;
}

/**
 * Replaces every configured secret value found in a text, as it is and as it appears inside a
 * JSON string, and anything shaped like a credential; used on anything that may reach a log.
 */
export function redactSecrets(text: string, config: Pick<Config, (typeof SECRET_VARIABLES)[number]>): string {
  let redacted = text;
  const secrets: Array<[string, string | undefined]> = SECRET_VARIABLES.map((name) => [name, config[name]]);
  secrets.push(['DATABASE_URL password', urlPassword(config.DATABASE_URL)]);
  secrets.push(['REDIS_URL password', urlPassword(config.REDIS_URL)]);
  for (const [name, secret] of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)]))
      redacted = redacted.split(form).join(`[${name} redacted]`);
  }
  for (const [shape, replacement] of SECRET_SHAPES) redacted = redacted.replace(shape, replacement);
  return redacted;
}

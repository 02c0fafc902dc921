import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, preferredPrecision, redactSecrets } from '../../src/config/config.js';
import { thrownBy } from '../helpers.js';

describe('config', () => {
  it('fills every default from an empty environment', () => {
    const config = parseConfig({});
    expect(config.EXECUTION_PROVIDER).toBe('auto');
    expect(config.MODELS_DIR).toBe('models/cache');
    expect(config.BATCH_MAX_SIZE).toBe(8);
    expect(config.ATTACHMENT_HOSTS).toEqual(['cdn.discordapp.com', 'media.discordapp.net']);
    expect(config.ATTACHMENT_ALLOW_INSECURE).toBe(false);
    expect(config.HEALTH_HOST).toBe('127.0.0.1');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lists every bad variable by name in one error', () => {
    const error = thrownBy(
      () =>
        parseConfig({
          EXECUTION_PROVIDER: 'tpu',
          BATCH_MAX_SIZE: '-3',
          HEALTH_PORT: 'eighty',
          HEALTH_HOST: 'everywhere',
          CLIP_PROMPT_TEMPLATE: 'no slot',
        }),
      ConfigError,
    );
    const problems = error.problems.join('\n');
    for (const name of ['EXECUTION_PROVIDER', 'BATCH_MAX_SIZE', 'HEALTH_PORT', 'HEALTH_HOST', 'CLIP_PROMPT_TEMPLATE'])
      expect(problems).toContain(name);
    expect(error.problems).toHaveLength(5);
  });

  it('never echoes a secret value in its error message', () => {
    const token = 'super-secret-token-value';
    const error = thrownBy(() => parseConfig({ DISCORD_TOKEN: token, DISCORD_APP_ID: 'not-a-number' }), ConfigError);
    expect(error.message).toContain('DISCORD_APP_ID');
    expect(error.message).not.toContain(token);
  });

  it('treats empty strings as unset, as .env files write them', () => {
    expect(parseConfig({ DISCORD_GUILD_ID: '', HEALTH_PORT: ' ' }).DISCORD_GUILD_ID).toBeUndefined();
  });

  it('requires a model name when an LLM provider is chosen', () => {
    expect(() => parseConfig({ LLM_PROVIDER: 'ollama', LLM_BASE_URL: 'http://127.0.0.1:11434' })).toThrow(/LLM_MODEL/);
  });

  it('prefers int8 on CPU and full precision on CUDA unless told otherwise', () => {
    expect(preferredPrecision(parseConfig({}))).toBe('q8');
    expect(preferredPrecision(parseConfig({ EXECUTION_PROVIDER: 'cuda' }))).toBe('fp32');
    expect(preferredPrecision(parseConfig({ EXECUTION_PROVIDER: 'cuda', MODEL_PRECISION: 'fp16' }))).toBe('fp16');
  });

  it('redacts configured secrets from any text', () => {
    const config = parseConfig({ DISCORD_TOKEN: 'abc.def.ghi', LLM_API_KEY: 'sk-123456' });
    expect(redactSecrets('token abc.def.ghi and key sk-123456', config)).toBe(
      'token [DISCORD_TOKEN redacted] and key [LLM_API_KEY redacted]',
    );
  });

  it('keeps the journal in data/ for 24 hours unless told otherwise', () => {
    const config = parseConfig({});
    expect([config.DATA_DIR, config.DATABASE_URL, config.JOURNAL_RETENTION_HOURS]).toEqual(['data/', undefined, 24]);
    expect(parseConfig({ DATABASE_URL: 'postgresql://bot@db:5432/sightread' }).DATABASE_URL).toBe(
      'postgresql://bot@db:5432/sightread',
    );
  });

  it('accepts only a postgres:// or postgresql:// DATABASE_URL, without echoing it', () => {
    for (const url of ['mysql://bot:pw-in-url@db/sightread', 'postgres:/bot@missing-a-slash', 'db.example:5432']) {
      const error = thrownBy(() => parseConfig({ DATABASE_URL: url }), ConfigError);
      expect(error.problems).toEqual(['DATABASE_URL: must be a postgres:// or postgresql:// URL']);
      expect(error.message).not.toContain(url);
    }
    expect(() => parseConfig({ JOURNAL_RETENTION_HOURS: '-1' })).toThrow(/JOURNAL_RETENTION_HOURS/);
  });

  it('runs in one process unless REDIS_URL names a redis:// server, which it never echoes or logs', () => {
    const config = parseConfig({});
    expect([config.REDIS_URL, config.QUEUE_MAX_ATTEMPTS, config.WORKER_CONCURRENCY]).toEqual([undefined, 3, undefined]);
    for (const url of ['http://cache:6379', 'redis:/missing-a-slash', 'cache:6379']) {
      const error = thrownBy(() => parseConfig({ REDIS_URL: url }), ConfigError);
      expect(error.problems).toEqual(['REDIS_URL: must be a redis:// or rediss:// URL']);
      expect(error.message).not.toContain(url);
    }
    const withRedis = parseConfig({ REDIS_URL: 'redis://:qu3ue-pw@cache:6379/0' });
    expect(redactSecrets('queue at redis://:qu3ue-pw@cache:6379/0', withRedis)).toBe('queue at [REDIS_URL redacted]');
    expect(redactSecrets('AUTH qu3ue-pw failed', withRedis)).toBe('AUTH [REDIS_URL password redacted] failed');
    expect(() => parseConfig({ QUEUE_LOCK_MS: '10' })).toThrow(/QUEUE_LOCK_MS/);
  });

  it('redacts DATABASE_URL, and its password wherever it appears alone', () => {
    const config = parseConfig({ DATABASE_URL: 'postgres://bot:s3cret%21pw@db:5432/sightread' });
    expect(redactSecrets('connecting to postgres://bot:s3cret%21pw@db:5432/sightread', config)).toBe(
      'connecting to [DATABASE_URL redacted]',
    );
    expect(redactSecrets('password "s3cret!pw" was refused', config)).toBe(
      'password "[DATABASE_URL password redacted]" was refused',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/config.js';
import { createLogger } from '../../../src/util/logger.js';

const DISCORD_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789';
const LLM_API_KEY = 'sk-proj-configuredKey0123456789abcdef';

/** A logger writing into an array, one parsed line per entry, with both secrets configured. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const config = parseConfig({ LOG_LEVEL: 'info', DISCORD_TOKEN, LLM_API_KEY });
  return { logger: createLogger(config, { write: (line: string) => void lines.push(line) }), lines };
}

describe('log redaction', () => {
  it("removes the LLM key from a provider's 401 body logged as a field", () => {
    const { logger, lines } = capturingLogger();
    logger.warn(
      { reason: `401 Incorrect API key provided: ${LLM_API_KEY}. You can find your API key at https://example.test.` },
      'LLM call failed; answering extractively',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('configuredKey');
    expect(JSON.parse(lines[0]!).reason).toBe(
      '401 Incorrect API key provided: [LLM_API_KEY redacted]. You can find your API key at https://example.test.',
    );
  });

  it('removes secrets from nested objects, arrays, error messages, stacks, causes and child bindings', () => {
    const { logger, lines } = capturingLogger();
    const cause = new Error(`gateway refused token ${DISCORD_TOKEN}`);
    const error = new Error(`request with key ${LLM_API_KEY} failed`, { cause });
    logger.child({ requestId: 'r1', header: `Bot ${DISCORD_TOKEN}` }).error(
      {
        err: error,
        request: { headers: { 'x-api-key': LLM_API_KEY }, attempts: [{ body: { key: LLM_API_KEY } }] },
      },
      'call failed',
    );
    const [line] = lines;
    expect(line).toBeDefined();
    expect(line).not.toContain('configuredKey');
    expect(line).not.toContain('abcdefghijklmnopqrstuvwxyz0123456789');
    const entry = JSON.parse(line!) as { err: { message: string; stack: string }; request: unknown };
    expect(entry.err.message).toContain('[LLM_API_KEY redacted]');
    expect(entry.err.stack).toContain('[DISCORD_TOKEN redacted]');
    expect(JSON.stringify(entry.request)).toContain('[LLM_API_KEY redacted]');
  });

  it('removes credentials by their shape when they are not the configured ones', () => {
    const { logger, lines } = capturingLogger();
    logger.warn(
      {
        reason: 'Incorrect API key provided: sk-other0123456789abcdef; masked by the provider as sk-proj-****abcd',
        header: 'authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature',
      },
      'provider said no',
    );
    const entry = JSON.parse(lines[0]!) as { reason: string; header: string };
    expect(entry.reason).toBe(
      'Incorrect API key provided: [API key redacted]; masked by the provider as [API key redacted]',
    );
    expect(entry.header).toBe('authorization: Bearer [token redacted]');
  });

  it('leaves ordinary text alone', () => {
    const { logger, lines } = capturingLogger();
    logger.info({ model: 'resnet-50', task: 'sk-etch' }, 'models loaded; ready');
    expect(JSON.parse(lines[0]!)).toMatchObject({ model: 'resnet-50', task: 'sk-etch', msg: 'models loaded; ready' });
  });
});

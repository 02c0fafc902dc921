import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: run files in parallel but keep the number of onnxruntime processes small.
    maxWorkers: 2,
    env: { LOG_LEVEL: 'silent' },
  },
});

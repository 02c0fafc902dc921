// @ts-check
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { layerZones } from './dependency-rule.js';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'bench/dist/',
      'models/cache/',
      'tests/fixtures/generated/',
      'bench/results/',
      'coverage/',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['scripts/**', 'src/cli/**', 'tests/**', 'bin/**'], rules: { 'no-console': 'off' } },
  // The dependency rule (dependency-rule.js): imports point down the layers only.
  {
    files: ['src/**/*.ts', 'src/**/*.js', 'commands/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: { 'import-x/no-restricted-paths': ['error', { zones: layerZones }] },
  },
);

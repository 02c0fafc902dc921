import type { ModelEntry, Precision } from '../models/manifest.js';
import type { ExecutionProvider } from './engine.js';

/** Which model produced a result, as every reply names it. */
export interface ModelIdentity {
  id: string;
  name: string;
  architecture: ModelEntry['architecture'];
  precision: Precision;
  executionProvider: ExecutionProvider;
}

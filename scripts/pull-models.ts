import { loadConfigOrExit } from '../src/config/env.js';
import { isUserFacing } from '../src/util/errors.js';
import { createLogger } from '../src/util/logger.js';
import { Services } from '../src/app.js';

/**
 * `npm run models:pull [ids...]`: fetches and verifies the files of the given models (default:
 * those the bot uses) at the configured precision, so the bot later starts without network access.
 */
const config = loadConfigOrExit();
const services = new Services(config, createLogger(config));
const defaults = [
  config.VISION_CNN_MODEL,
  config.VISION_VIT_MODEL,
  config.CLIP_MODEL,
  config.SENTIMENT_MODEL,
  'bert-base-uncased',
  'gpt2',
];
const ids = process.argv.slice(2).length > 0 ? process.argv.slice(2) : defaults;
let failed = 0;
for (const id of ids) {
  try {
    const resolved = await services.store.resolve(id, services.precision);
    console.log(`ok  ${id} (${resolved.precision}) in ${resolved.dir}`);
  } catch (error) {
    failed += 1;
    console.error(`err ${id}: ${isUserFacing(error) ? error.message : String(error)}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;

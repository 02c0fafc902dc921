import type { Config } from '../config/config.js';
import type { Logger } from '../util/logger.js';
import { loadAskPrompt, StudyAssistant } from './ask.js';
import { createChatModel } from './llm.js';
import { TopicRetriever } from './retriever.js';
import type { Topic } from './topics.js';

/** The /ask chain over the notes: retriever, prompt template from prompts/, and the LLM when configured. */
export function createAssistant(config: Config, logger: Logger, topics: ReadonlyMap<string, Topic>): StudyAssistant {
  const model = createChatModel(config);
  model.catch((error: unknown) =>
    logger.error({ err: error }, 'could not create the LLM client; /ask answers extractively'),
  );
  return new StudyAssistant(
    topics,
    new TopicRetriever(topics.values()),
    loadAskPrompt(),
    model.catch(() => undefined),
    config.LLM_TIMEOUT_MS,
    logger,
  );
}

import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { loadAskPrompt, StudyAssistant } from './ask.js';
import { createChatModel } from './llm.js';
import { TopicRetriever } from './retriever.js';
import { loadTopics, type Topic } from './topics.js';

export interface Knowledge {
  topics: ReadonlyMap<string, Topic>;
  retriever: TopicRetriever;
  assistant: StudyAssistant;
}

/** Notes, retriever and the /ask chain, built once from prompts/. */
export function createKnowledge(config: Config, logger: Logger): Knowledge {
  const topics = loadTopics();
  const retriever = new TopicRetriever(topics.values());
  const model = createChatModel(config);
  model.catch((error: unknown) => logger.error({ err: error }, 'could not create the LLM client; /ask answers extractively'));
  const assistant = new StudyAssistant(topics, retriever, loadAskPrompt(), model.catch(() => undefined), config.LLM_TIMEOUT_MS, logger);
  return { topics, retriever, assistant };
}

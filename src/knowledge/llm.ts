import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Config } from '../config/config.js';

/**
 * The chat model for /ask, or undefined when none is configured. Ollama, vLLM and LM Studio
 * all speak the OpenAI chat-completions protocol, so one client serves every provider.
 * The client library is imported only when an LLM is configured (it costs ~40 MB of memory).
 */
export async function createChatModel(config: Config): Promise<BaseChatModel | undefined> {
  if (config.LLM_PROVIDER === 'none' || !config.LLM_MODEL) return undefined;
  const { ChatOpenAI } = await import('@langchain/openai');
  let baseURL = config.LLM_BASE_URL;
  if (config.LLM_PROVIDER === 'ollama') {
    const root = (baseURL ?? 'http://127.0.0.1:11434').replace(/\/+$/, '');
    baseURL = root.endsWith('/v1') ? root : `${root}/v1`;
  }
  return new ChatOpenAI({
    model: config.LLM_MODEL,
    // Local servers accept any key; the OpenAI client insists on having one.
    apiKey: config.LLM_API_KEY ?? 'not-needed',
    configuration: baseURL ? { baseURL } : {},
    timeout: config.LLM_TIMEOUT_MS,
    maxRetries: 0,
    temperature: 0.2,
    useResponsesApi: false,
  });
}

import type { AssistantBackend } from '../../core/assistant/backend.js';
import { FaqEngine } from '../../core/assistant/faq.js';
import { faqEntriesFrom, type Config } from '../config.js';
import { OpenAiBackend } from './openai-backend.js';

/**
 * The assistant's backend the settings choose: ASSISTANT_URL → an OpenAI-compatible endpoint; else
 * ASSISTANT_FAQ_FILE → the local FAQ engine; neither → null (no assistant on this server).
 */
export function assistantBackendFrom(config: Config): AssistantBackend | null {
  if (config.assistantUrl) {
    return new OpenAiBackend({
      url: config.assistantUrl,
      model: config.assistantModel,
      apiKey: config.assistantApiKey,
      timeoutMs: config.assistantTimeoutMs,
      systemPrompt: config.assistantSystemPrompt,
      maxTokens: config.assistantMaxTokens,
      maxChars: config.maxMessageChars,
    });
  }
  if (config.assistantFaqFile) {
    return new FaqEngine(faqEntriesFrom(config), {
      threshold: config.assistantFaqMinConfidence,
      unknownText: config.assistantFaqUnknownText,
    });
  }
  return null;
}

import type { IntegrationRef } from '../protocol/model.js';

/**
 * `data.integration` of a message posted through an incoming webhook (issue 16), checked: clients show its name and
 * an app badge instead of the sender (the webhook's creator). Undefined for any other message, or a malformed one.
 */
export function integrationOf(data: Record<string, unknown> | null | undefined): IntegrationRef | undefined {
  const v = data?.integration;
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.id !== 'string' || typeof r.name !== 'string' || !r.name.trim()) return undefined;
  return { id: r.id, name: r.name, iconUrl: typeof r.iconUrl === 'string' ? r.iconUrl : null };
}

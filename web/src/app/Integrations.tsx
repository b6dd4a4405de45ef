/**
 * The "Integrations" tab of room settings and of the admin view: everything that posts or listens on people's
 * behalf — the assistant, bots, incoming webhooks and outgoing event subscriptions. Each part lives in its own
 * module; this one only lays them out.
 */
import { AssistantSettings } from './Assistant.js';
import { RoomBots, ServerBots } from './Bots.js';
import { RoomWebhooks, ServerWebhooks } from './Webhooks.js';

/** Room settings → Integrations (room owners and admins). */
export function RoomIntegrations({ roomId }: { roomId: string }) {
  return (
    <div class="integrations">
      <AssistantSettings roomId={roomId} />
      <RoomBots roomId={roomId} />
      <RoomWebhooks roomId={roomId} />
    </div>
  );
}

/** Admin → Integrations (server admins): server-wide bots and event subscriptions. */
export function ServerIntegrations() {
  return (
    <div class="integrations">
      <ServerBots />
      <ServerWebhooks />
    </div>
  );
}

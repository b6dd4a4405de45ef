import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { useApp, useChat } from './context.js';
import { useAction } from './ModShared.js';

/**
 * The built-in assistant in the web app (issue 16): the answer it is writing, under the timeline, from its
 * `assistant.stream` frames (not stored); and adding or removing it in a room's settings.
 */
export function AssistantStream({ roomId }: { roomId: string }) {
  const f = useApp((s) => s.assistantStreams[roomId]);
  const posted = useApp((s) => {
    const seq = s.assistantStreams[roomId]?.seq;
    return seq !== undefined && !!s.views[roomId]?.messages.some((m) => m.seq === seq);
  });
  // Once the final message (or the posted notice) is in the timeline, it is shown there instead.
  if (!f || posted) return null;
  const name = t('assistant.section');
  if (f.state === 'error' && f.seq === undefined) {
    return (
      <div class="assistant-stream error" role="status" data-testid="assistant-stream">
        {t('assistant.failed', { a: name, why: f.error?.message ?? '' })}
      </div>
    );
  }
  return (
    <div class="assistant-stream" aria-live="polite" data-testid="assistant-stream" data-state={f.state}>
      <span class="assistant-stream-who">{t('assistant.writing', { a: name })}</span>
      <span class="assistant-stream-text">{f.text}</span>
    </div>
  );
}

type Status = { added: boolean; user: { username: string }; answersPerHour: number };

/** Room settings: whether the assistant is in the room, and the button that adds or removes it. */
export function AssistantSettings({ roomId }: { roomId: string }) {
  const chat = useChat();
  const [status, setStatus] = useState<Status | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const { busy, run, Note } = useAction();
  const enabled = useApp((s) => s.assistant);
  useEffect(() => {
    // No assistant on this server (welcome.features): nothing to ask, and no section.
    if (!enabled) return;
    let live = true;
    chat.api
      .roomAssistant(roomId)
      .then((a) => live && setStatus(a))
      .catch(() => {
        // No assistant on this server: the section is not shown at all.
        if (live) setUnavailable(true);
      });
    return () => {
      live = false;
    };
  }, [roomId, enabled]);
  if (!enabled || unavailable || !status) return null;
  return (
    <section class="assistant-settings" data-testid="assistant-settings">
      <h3>{t('assistant.section')}</h3>
      <p class="muted">
        {status.added
          ? t('assistant.hintOn', { a: status.user.username })
          : t('assistant.hintOff', { n: String(status.answersPerHour) })}
      </p>
      <button
        type="button"
        class={status.added ? 'button' : 'button primary'}
        disabled={busy}
        onClick={() =>
          void run(async () => setStatus(await chat.api.roomAssistant(roomId, status.added ? 'DELETE' : 'PUT')))
        }
      >
        {status.added ? t('assistant.remove') : t('assistant.add')}
      </button>
      <Note />
    </section>
  );
}

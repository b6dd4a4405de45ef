/**
 * The composer's file side: the attach button (a file picker), the voice-note recorder, and the chips of files
 * uploading or uploaded for the next message (progress, cancel, remove). Drag-and-drop and paste feed the same
 * uploads (RoomView, Composer).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import type { PendingUpload } from '../state/app-state.js';
import { bytesText, clockText } from '../state/format.js';
import { VOICE_NOTE_MAX_SECONDS, recordingFormat, voiceNoteName } from '../state/voice.js';
import { useApp, useChat } from './context.js';
import { Icon } from './Icon.js';

const NO_UPLOADS: PendingUpload[] = [];

export function AttachButton({ roomId }: { roomId: string }) {
  const chat = useChat();
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="attach-input"
        onChange={(e) => {
          const files = [...(e.currentTarget.files ?? [])];
          e.currentTarget.value = '';
          if (files.length) chat.uploads.add(roomId, files);
        }}
      />
      <button
        type="button"
        class="icon-button"
        aria-label={t('files.attach')}
        title={t('files.attach')}
        onClick={() => input.current?.click()}
      >
        <Icon name="paperclip" size={18} />
      </button>
    </>
  );
}

function UploadChip({ roomId, u }: { roomId: string; u: PendingUpload }) {
  const chat = useChat();
  const uploading = u.status === 'uploading';
  const pct = Math.round(u.progress * 100);
  return (
    <li class={`upload-chip ${u.status}`} data-testid="upload-chip" data-status={u.status}>
      <Icon name={u.type.startsWith('image/') ? 'image' : u.type.startsWith('audio/') ? 'mic' : 'file'} size={16} />
      <span class="upload-chip-text">
        <span class="upload-chip-name" title={u.name}>
          {u.name}
        </span>
        <span class="upload-chip-meta">
          {u.status === 'failed' ? (
            <span role="alert">{u.error ?? t('files.uploadFailed')}</span>
          ) : uploading ? (
            t('files.uploading', { percent: pct })
          ) : (
            bytesText(u.file?.size ?? u.size)
          )}
        </span>
        {uploading && (
          <span
            class="upload-progress"
            role="progressbar"
            aria-label={t('files.progress', { name: u.name })}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
          >
            <span class="upload-progress-bar" style={{ width: `${pct}%` }} />
          </span>
        )}
      </span>
      <button
        type="button"
        class="icon-button small"
        aria-label={uploading ? t('files.cancel', { name: u.name }) : t('files.remove', { name: u.name })}
        title={uploading ? t('files.cancel', { name: u.name }) : t('files.remove', { name: u.name })}
        onClick={() => chat.uploads.remove(roomId, u.key)}
      >
        <Icon name="x" size={14} />
      </button>
    </li>
  );
}

/** The room's pending uploads above the composer. */
export function UploadChips({ roomId }: { roomId: string }) {
  const uploads = useApp((s) => s.uploads[roomId] ?? NO_UPLOADS);
  if (!uploads.length) return null;
  return (
    <ul class="upload-chips" aria-label={t('files.pending')}>
      {uploads.map((u) => (
        <UploadChip key={u.key} roomId={roomId} u={u} />
      ))}
    </ul>
  );
}

interface Recording {
  recorder: MediaRecorder;
  stream: MediaStream;
  startedAt: number;
  chunks: Blob[];
  /** Stop and upload (true) or stop and throw away (false). */
  keep: boolean;
}

/**
 * Records a voice note with the microphone (MediaRecorder): the button starts, the elapsed time shows, stop
 * uploads it as an attachment of the next message; it stops by itself at VOICE_NOTE_MAX_SECONDS.
 */
export function VoiceRecorder({ roomId }: { roomId: string }) {
  const chat = useChat();
  const rec = useRef<Recording | null>(null);
  const [recording, setRecording] = useState(false);
  const [elapsed, setElapsed] = useState(0);
  const [starting, setStarting] = useState(false);

  const stop = (keep: boolean) => {
    const r = rec.current;
    if (!r) return;
    r.keep = keep;
    if (r.recorder.state !== 'inactive') r.recorder.stop();
  };

  // Leaving the room (or the page) throws an unfinished recording away and frees the microphone.
  useEffect(() => () => stop(false), [roomId]);

  useEffect(() => {
    if (!recording) return;
    const id = setInterval(() => {
      const r = rec.current;
      if (!r) return;
      const s = (Date.now() - r.startedAt) / 1000;
      setElapsed(s);
      if (s >= VOICE_NOTE_MAX_SECONDS) stop(true);
    }, 250);
    return () => clearInterval(id);
  }, [recording]);

  const start = async () => {
    if (starting || rec.current) return;
    if (typeof MediaRecorder !== 'function' || !navigator.mediaDevices?.getUserMedia) {
      chat.ui.toast(t('voice.unsupported'), 'error');
      return;
    }
    setStarting(true);
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      setStarting(false);
      chat.ui.toast(t('voice.denied'), 'error');
      return;
    }
    const format = recordingFormat();
    const recorder = new MediaRecorder(stream, format.mimeType ? { mimeType: format.mimeType } : {});
    const r: Recording = { recorder, stream, startedAt: Date.now(), chunks: [], keep: true };
    recorder.addEventListener('dataavailable', (e) => {
      if (e.data.size > 0) r.chunks.push(e.data);
    });
    recorder.addEventListener('stop', () => {
      for (const track of stream.getTracks()) track.stop();
      rec.current = null;
      setRecording(false);
      setElapsed(0);
      if (!r.keep || !r.chunks.length) return;
      const type = (recorder.mimeType || format.mimeType || 'audio/webm').split(';')[0] as string;
      const file = new File(r.chunks, voiceNoteName(new Date(r.startedAt), type), { type });
      chat.uploads.add(roomId, [file]);
    });
    rec.current = r;
    // Chunks every second, so a recording cut short by the limit still has its data.
    recorder.start(1000);
    setStarting(false);
    setRecording(true);
  };

  if (!recording) {
    return (
      <button
        type="button"
        class="icon-button"
        aria-label={t('voice.record')}
        title={t('voice.record')}
        disabled={starting}
        onClick={() => void start()}
      >
        <Icon name="mic" size={18} />
      </button>
    );
  }
  return (
    <span class="voice-recording" role="status" data-testid="voice-recording">
      <span class="voice-dot" aria-hidden="true" />
      <span class="voice-time" aria-label={t('voice.elapsed', { time: clockText(elapsed) })}>
        {clockText(elapsed)} / {clockText(VOICE_NOTE_MAX_SECONDS)}
      </span>
      <button
        type="button"
        class="icon-button small"
        aria-label={t('voice.discard')}
        title={t('voice.discard')}
        onClick={() => stop(false)}
      >
        <Icon name="trash" size={15} />
      </button>
      <button
        type="button"
        class="icon-button small voice-stop"
        aria-label={t('voice.stop')}
        title={t('voice.stop')}
        onClick={() => stop(true)}
      >
        <Icon name="stop" size={15} />
      </button>
    </span>
  );
}

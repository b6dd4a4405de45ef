/**
 * A message's files: images as thumbnails (their box reserved from the stored width and height, so nothing jumps
 * when they load) that open a lightbox, voice notes and other audio as an inline player, anything else as a card
 * with name, size and type and a download button. Every URL is a signed link (state/file-links.ts).
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { FileInfo } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { bytesText, fileKindText } from '../state/format.js';
import type { Variant } from '../state/file-links.js';
import { useChat } from './context.js';
import { Icon } from './Icon.js';

/** The largest box a thumbnail is shown in (CSS px); a phone's narrower column scales it down further. */
const THUMB_MAX_W = 360;
const THUMB_MAX_H = 280;

/** Formats the server makes thumbnails of (docs/protocol.md, files). */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export const isInlineImage = (f: FileInfo) => INLINE_IMAGES.has(f.contentType) && !!f.width && !!f.height;
export const isAudio = (f: FileInfo) => f.contentType.startsWith('audio/');

/** The shown size of a thumbnail: the image scaled down (never up) into the box. */
export function thumbSize(w: number, h: number): { width: number; height: number } {
  const scale = Math.min(1, THUMB_MAX_W / w, THUMB_MAX_H / h);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/** A signed URL for the file, fetched on mount; `retry` asks for a fresh one (a player's link expired). */
function useFileUrl(id: string, variant: Variant): { url: string | null; failed: boolean; retry: () => void } {
  const chat = useChat();
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    chat.fileLinks.get(id, variant).then(
      (u) => live && setUrl(u),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [id, variant, attempt]);
  return {
    url,
    failed,
    retry: () => {
      chat.fileLinks.drop(id, variant);
      setAttempt((n) => n + 1);
    },
  };
}

function ImageThumb({ f, onOpen }: { f: FileInfo; onOpen: () => void }) {
  const { url } = useFileUrl(f.id, 'thumbnail');
  const size = thumbSize(f.width as number, f.height as number);
  return (
    <button
      type="button"
      class="att-image"
      aria-label={t('files.openImage', { name: f.name })}
      title={f.name}
      onClick={onOpen}
      style={{ width: `${size.width}px`, aspectRatio: `${size.width} / ${size.height}` }}
    >
      {url && <img src={url} alt={f.name} width={size.width} height={size.height} loading="lazy" decoding="async" />}
    </button>
  );
}

function AudioPlayer({ f }: { f: FileInfo }) {
  const { url, retry } = useFileUrl(f.id, 'original');
  const retried = useRef(false);
  return (
    <div class="att-audio" data-testid="voice-note">
      <Icon name="mic" size={16} />
      {url ? (
        <audio
          controls
          preload="metadata"
          src={url}
          aria-label={f.name}
          onError={() => {
            // A link that expired while the page sat open: one fresh one, then give up.
            if (retried.current) return;
            retried.current = true;
            retry();
          }}
        />
      ) : (
        <span class="att-audio-wait" />
      )}
    </div>
  );
}

function FileCard({ f }: { f: FileInfo }) {
  const chat = useChat();
  const [error, setError] = useState(false);
  const download = async () => {
    setError(false);
    try {
      const url = await chat.fileLinks.get(f.id, 'original');
      const a = document.createElement('a');
      a.href = url;
      a.download = f.name;
      a.rel = 'noopener';
      document.body.append(a);
      a.click();
      a.remove();
    } catch {
      setError(true);
    }
  };
  return (
    <div class="att-file" data-testid="file-card">
      <span class="att-file-icon" aria-hidden="true">
        <Icon name="file" size={22} />
      </span>
      <span class="att-file-text">
        <span class="att-file-name" title={f.name}>
          {f.name}
        </span>
        <span class="att-file-meta">
          {bytesText(f.size)} · {fileKindText(f.contentType, f.name)}
          {error && <span class="att-file-error"> · {t('files.downloadFailed')}</span>}
        </span>
      </span>
      <button
        type="button"
        class="icon-button"
        aria-label={t('files.download', { name: f.name })}
        title={t('files.download', { name: f.name })}
        onClick={() => void download()}
      >
        <Icon name="download" size={18} />
      </button>
    </div>
  );
}

/** The full image over the page: Esc, the close button or a click anywhere closes it; focus returns after. */
export function Lightbox({ f, onClose }: { f: FileInfo; onClose: () => void }) {
  const { url } = useFileUrl(f.id, 'original');
  const closeRef = useRef<HTMLButtonElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      e.preventDefault();
      close.current();
    };
    document.addEventListener('keydown', onKey);
    const before = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    return () => {
      document.removeEventListener('keydown', onKey);
      before?.focus?.();
    };
  }, []);
  return (
    <div
      class="lightbox"
      role="dialog"
      aria-modal="true"
      aria-label={f.name}
      onClick={onClose}
      onKeyDown={(e) => {
        // The close button is the one thing to focus: keep Tab on it.
        if (e.key === 'Tab') {
          e.preventDefault();
          closeRef.current?.focus();
        }
      }}
    >
      <button ref={closeRef} type="button" class="lightbox-close" aria-label={t('common.close')} onClick={onClose}>
        <Icon name="x" size={22} />
      </button>
      {url && <img class="lightbox-image" src={url} alt={f.name} />}
      <div class="lightbox-caption">
        {f.name} · {f.width}×{f.height} · {bytesText(f.size)}
      </div>
    </div>
  );
}

export function Attachments({ files }: { files: FileInfo[] }) {
  const [open, setOpen] = useState<FileInfo | null>(null);
  const images = files.filter(isInlineImage);
  const others = files.filter((f) => !isInlineImage(f));
  return (
    <div class="attachments">
      {images.length > 0 && (
        <div class="att-images">
          {images.map((f) => (
            <ImageThumb key={f.id} f={f} onOpen={() => setOpen(f)} />
          ))}
        </div>
      )}
      {others.map((f) => (isAudio(f) ? <AudioPlayer key={f.id} f={f} /> : <FileCard key={f.id} f={f} />))}
      {open && <Lightbox f={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

/**
 * UI blocks every view uses: the modal dialog, the error line, and search-as-you-type. Views import these, never
 * each other (a test checks web/src for import cycles).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { errorText } from '../state/errors.js';
import { Icon } from './Icon.js';

const FOCUSABLE =
  'button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';

/** A modal dialog: focus moves in and is trapped, Escape or the backdrop closes, focus returns on close. */
export function Modal({
  title,
  onClose,
  children,
  wide = false,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  // A layout effect, so the listener is there as soon as the dialog is on screen: a quick Escape is not lost.
  useLayoutEffect(() => {
    // On the document, not the dialog: Escape still closes it when focus has fallen out (e.g. to <body>
    // after the language switch re-renders everything).
    const onEscape = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      e.preventDefault();
      close.current();
    };
    document.addEventListener('keydown', onEscape);
    return () => document.removeEventListener('keydown', onEscape);
  }, []);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    // The first field if there is one (not the close button that comes first in the markup).
    const el = ref.current;
    const first =
      el?.querySelector<HTMLElement>('input:not([type=radio]), textarea, select') ??
      el?.querySelector<HTMLElement>('.dialog-foot button, button');
    first?.focus();
    return () => before?.focus?.();
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Tab' || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <div
      class="backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div
        class={`dialog${wide ? ' wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby="dialog-title"
        ref={ref}
        onKeyDown={onKeyDown}
      >
        <div class="dialog-head">
          <h2 id="dialog-title">{title}</h2>
          <button type="button" class="icon-button" aria-label={t('common.close')} onClick={onClose}>
            <Icon name="x" size={18} />
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

export function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p class="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** A textarea that grows with its text up to `maxPx`, then scrolls (the composer and the inline editor). */
export function useAutoGrow(input: { current: HTMLTextAreaElement | null }, text: string, maxPx = 240): void {
  useLayoutEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, maxPx)}px`;
  }, [input, text, maxPx]);
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

/** How long typing pauses before a search goes out. */
const SEARCH_DEBOUNCE_MS = 200;

export interface Search<T> {
  /** What is typed. */
  text: string;
  setText: (text: string) => void;
  /** The query the result answers (trimmed, debounced). */
  query: string;
  /** The answer to the latest request; null until the first one lands. */
  result: T | null;
  setResult: (update: (cur: T | null) => T | null) => void;
  error: string | null;
  setError: (error: string | null) => void;
  /**
   * A follow-up request for the same query (the next page): `merge` folds its answer in, unless a newer request
   * started meanwhile.
   */
  more: (request: Promise<T>, merge: (cur: T | null, got: T) => T) => void;
}

/**
 * Search-as-you-type: runs `search` for the query once typing pauses, and shows only the answer to the latest
 * request — a slow answer to an older query arrives too late and is dropped, never shown over a newer one.
 */
export function useSearch<T>(search: (query: string) => Promise<T>): Search<T> {
  const [text, setText] = useState('');
  const query = useDebounced(text.trim(), SEARCH_DEBOUNCE_MS);
  const [result, setResult] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);
  const settle = (request: Promise<T>, merge: (cur: T | null, got: T) => T) => {
    const n = ++latest.current;
    request.then(
      (got) => {
        if (latest.current !== n) return; // a newer request started: its answer wins
        setResult((cur) => merge(cur, got));
        setError(null);
      },
      (e: unknown) => latest.current === n && setError(errorText(e)),
    );
  };
  useEffect(() => {
    settle(search(query), (_cur, got) => got);
  }, [query]);
  // Unmounted: whatever is still in flight lands nowhere.
  useEffect(() => () => void ++latest.current, []);
  return { text, setText, query, result, setResult, error, setError, more: settle };
}

/** The search box of a `useSearch`. */
export function SearchField({ search, label }: { search: Pick<Search<unknown>, 'text' | 'setText'>; label: string }) {
  return (
    <div class="search-field">
      <Icon name="search" size={16} />
      <input
        type="search"
        value={search.text}
        placeholder={label}
        aria-label={label}
        onInput={(e) => search.setText(e.currentTarget.value)}
      />
    </div>
  );
}

/** What is open and shown around the conversation: dialog, drawers, toasts, announcements, theme and language. */
import type { Announcement } from '../../../src/protocol/model.js';
import { detectLocale, setLocale as applyLocale, type Locale } from '../i18n/index.js';
import type { DeviceState, Dialog, Theme, Toast } from './app-state.js';
import { errorText } from './errors.js';
import { notifierStart } from './notify-policy.js';
import { load, save } from './persist.js';
import { Slice } from './slice.js';

/** Below this width the member list covers the conversation, so it starts closed and closes on navigation. */
export function membersOverlay(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(max-width: 1100px)').matches;
}

function systemTheme(): Theme {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** This browser's saved preferences (or the system's), applied: the part of the state a sign-out keeps. */
export function deviceStart(): DeviceState {
  const locale = load<Locale>('locale') ?? detectLocale();
  applyLocale(locale);
  return {
    phase: 'boot',
    authNotice: null,
    theme: load<Theme>('theme') ?? systemTheme(),
    locale,
    membersOpen: !membersOverlay() && (load<boolean>('membersOpen') ?? true),
    ...notifierStart(),
  };
}

export class Ui extends Slice {
  private toastId = 0;

  setTheme(theme: Theme): void {
    save('theme', theme);
    this.set({ theme });
  }

  setLocale(locale: Locale): void {
    applyLocale(locale);
    save('locale', locale);
    this.set({ locale });
  }

  setDialog(dialog: Dialog): void {
    this.set({ dialog });
  }

  /** Opens the inline editor of a message (closing any other), or closes it (null). */
  setEditing(editing: { roomId: string; seq: number } | null): void {
    this.set({ editing });
  }

  toggleSidebar(open?: boolean): void {
    this.set((s) => ({ sidebarOpen: open ?? !s.sidebarOpen }));
  }

  toggleMembers(open?: boolean): void {
    this.set((s) => {
      const membersOpen = open ?? !s.membersOpen;
      if (!membersOverlay()) save('membersOpen', membersOpen);
      return { membersOpen };
    });
  }

  /** A room was opened: the drawer closes, and so does the member list where it would cover the conversation. */
  navigated(): void {
    this.set((s) => ({ sidebarOpen: false, membersOpen: s.membersOpen && !membersOverlay() }));
  }

  /** A room went away: a dialog about it closes. */
  roomGone(roomId: string): void {
    this.set((s) => ({ dialog: s.dialog && 'roomId' in s.dialog && s.dialog.roomId === roomId ? null : s.dialog }));
  }

  announced(a: Announcement): void {
    this.set((s) => ({ announcements: [...s.announcements.slice(-2), a] }));
  }

  dismissAnnouncement(id: string): void {
    this.set((s) => ({ announcements: s.announcements.filter((a) => a.id !== id) }));
  }

  toast(text: string, tone: Toast['tone'] = 'info'): void {
    const id = ++this.toastId;
    this.set((s) => ({ toasts: [...s.toasts.slice(-3), { id, text, tone }] }));
    setTimeout(() => this.dismissToast(id), tone === 'error' ? 8000 : 5000);
  }

  dismissToast(id: number): void {
    this.set((s) => ({ toasts: s.toasts.filter((x) => x.id !== id) }));
  }

  /** Shows an action's error as a toast (dialogs show theirs inline instead). */
  fail(err: unknown): void {
    this.toast(errorText(err), 'error');
  }
}

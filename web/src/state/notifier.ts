/**
 * Desktop notifications, the sound and do-not-disturb: the client side of the server's notification preferences
 * (each room's `notify` level, `dndUntil` in the user's settings). The server delivers everything; this decides
 * what interrupts the user:
 * - only live messages: an event replayed while a room catches up after (re)connecting (before its `synced`), or
 *   one the room list already counted, notifies nobody, and each (room, seq) notifies at most once per page;
 * - not the user's own messages, and not a room the user is looking at (tab visible and that room open);
 * - per the room's level (`all`; `mentions`: messages naming the user, `@room` / `@here`, and every DM message;
 *   `none`), and never during do-not-disturb.
 * The sound is a short tone made with WebAudio (no asset), on this device only; off until the user turns it on.
 */
import { integrationOf } from '../../../src/client/integration.js';
import type { MyRoom, RoomEvent, UserSettings } from '../../../src/protocol/model.js';
import { t } from '../i18n/index.js';
import { roomTitle, nameOf } from './format.js';
import { dndActive, DND_FOREVER, levelAllows, mentionsMe, permissionNow, snippet } from './notify-policy.js';
import { save } from './persist.js';
import { Slice, type StateContext } from './slice.js';
import type { Ui } from './ui.js';

/** Notified (room, seq) pairs remembered for de-duplication; older ones fall out (they are long past live). */
const SEEN_MAX = 2000;

export class Notifier extends Slice {
  /** Rooms caught up on this connection (`synced`): only their later events are live. */
  private synced = new Set<string>();
  private seen = new Set<string>();
  private audio: AudioContext | null = null;

  constructor(
    ctx: StateContext,
    private readonly ui: Ui,
    /** Opens a room (a notification clicked). */
    private readonly openRoom: (roomId: string) => void,
  ) {
    super(ctx);
  }

  /** A new `welcome`: every room catches up again before its events count as live. */
  connected(): void {
    this.synced.clear();
  }

  roomSynced(roomId: string): void {
    this.synced.add(roomId);
  }

  /** A live `message` event (`counted`: the room list already had it). */
  onMessage(e: RoomEvent, counted: boolean): void {
    const me = this.s.me;
    const room = this.s.rooms[e.roomId];
    if (!me || !room || counted || !this.synced.has(e.roomId)) return;
    if (e.senderId === me.id || e.data?.deleted === true) return;
    const key = `${e.roomId}:${e.seq}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value!);
    if (e.data?.threadOnly === true && !mentionsMe(e, me.id)) return;
    if (!levelAllows(room.notify, room, e, me.id)) return;
    if (mentionsMe(e, me.id) || room.kind === 'dm')
      this.set((s) => ({ mentioned: { ...s.mentioned, [e.roomId]: true } }));
    const looking = document.visibilityState === 'visible' && this.s.active === e.roomId;
    if (looking || dndActive(this.s.settings)) return;
    this.show(room, e);
    if (this.s.sound) this.tone();
  }

  private show(room: MyRoom, e: RoomEvent): void {
    if (permissionNow() !== 'granted') return;
    // Posted through an incoming webhook: the integration's name (issue 16), not its creator's.
    const sender = integrationOf(e.data)?.name ?? nameOf(this.s.users, e.senderId);
    // A DM is titled by its sender; a group DM and a room say where, as the tab title does.
    const where = room.kind === 'dm' ? roomTitle(room, this.s.me?.id) : `#${room.name}`;
    const oneToOne = room.kind === 'dm' && (room.members?.length ?? 1) <= 1;
    const title = oneToOne ? sender : t('notify.title', { room: where, sender });
    try {
      const n = new Notification(title, {
        body: snippet(e.body ?? ''),
        tag: `${e.roomId}:${e.seq}`,
        icon: '/favicon.svg',
      });
      n.onclick = () => {
        window.focus();
        this.openRoom(e.roomId);
        n.close();
      };
    } catch {
      /* some browsers only notify from a service worker: nothing to show then */
    }
  }

  /** Asks for permission: call from a click (browsers ignore it otherwise). */
  async requestPermission(): Promise<void> {
    if (typeof Notification === 'undefined') return;
    const p = await Notification.requestPermission();
    this.set({ permission: p });
    if (p === 'granted') this.ui.toast(t('notify.enabled'), 'success');
  }

  setSound(on: boolean): void {
    save('sound', on);
    this.set({ sound: on });
    if (on) this.tone(); // a click: lets the page play sound from now on, and shows what it sounds like
  }

  /** Do-not-disturb for `ms` from now (null: off; Infinity: until turned off). */
  async setDnd(ms: number | null): Promise<void> {
    const dndUntil = ms === null ? null : ms === Infinity ? DND_FOREVER : Date.now() + ms;
    const settings = await this.ctx.api.updateSettings({ dndUntil });
    this.set({ settings });
  }

  /** A `settings` frame from another device (or this one). */
  settingsChanged(settings: UserSettings): void {
    this.set({ settings });
  }

  /** A room fully read: its mention emphasis goes. */
  read(roomId: string): void {
    if (this.s.mentioned[roomId]) {
      this.set((s) => {
        const { [roomId]: _drop, ...rest } = s.mentioned;
        return { mentioned: rest };
      });
    }
  }

  private tone(): void {
    try {
      this.audio ??= new AudioContext();
      const ctx = this.audio;
      void ctx.resume();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.setValueAtTime(880, ctx.currentTime);
      osc.frequency.setValueAtTime(1320, ctx.currentTime + 0.08);
      gain.gain.setValueAtTime(0.0001, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.15, ctx.currentTime + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.26);
    } catch {
      /* no audio here */
    }
  }
}

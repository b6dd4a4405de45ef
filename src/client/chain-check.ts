import { canonicalContent, canonicalLink } from '../protocol/chain.js';
import type { RoomEvent } from '../protocol/model.js';

/**
 * What the SDK found wrong in the events it received (docs/protocol.md "History integrity"): `hash` (an event's hash
 * is not the hash of its own fields: changed in storage or in transit), `link` (its prevHash is not the hash of the
 * event before it, which this client received: an event was removed, inserted or reordered), `content` (its body or
 * data do not match its contentHash), `unhashed` (an event without a hash after hashed ones).
 */
export interface ChainBreak {
  roomId: string;
  seq: number;
  eventId: string;
  problem: 'hash' | 'link' | 'content' | 'unhashed';
  detail: string;
}

type Subtle = Pick<SubtleCrypto, 'digest'>;

const hex = (buf: ArrayBuffer) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

/** Messages changed since they were appended: their content is checked by the server's verifier, not here. */
const changedMessage = (e: RoomEvent) =>
  e.type === 'message' && e.data !== null && ('editedAt' in e.data || 'deleted' in e.data || 'preview' in e.data);

/**
 * Verifies, in order, the events a client receives: each one's hash over its fields, its link to the event before it
 * in the room (when this client received that one, or knows the room's head), and its content where it is as
 * appended (every event but messages edited, deleted or previewed since, and the erased text of an edit of a deleted
 * message). Hashing is WebCrypto's SHA-256, asynchronous: checks run one after another, off the delivery path;
 * breaks are reported through `onBreak`.
 */
export class ChainChecker {
  private readonly heads = new Map<string, { seq: number; hash: string }>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly subtle: Subtle,
    private readonly onBreak: (b: ChainBreak) => void,
  ) {}

  private async sha256(text: string): Promise<string> {
    return hex(await this.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  }

  /** The room's head as the server stated it (welcome, room list): the next event must link to it. */
  anchor(roomId: string, seq: number, hash: string | undefined): void {
    this.queue = this.queue.then(() => {
      const known = this.heads.get(roomId);
      if (hash && (!known || known.seq <= seq)) this.heads.set(roomId, { seq, hash });
    });
  }

  /** The last hash checked per room: keep it with the client's positions to check across a restart. */
  snapshot(): Record<string, { seq: number; hash: string }> {
    return Object.fromEntries(this.heads);
  }

  forget(roomId: string): void {
    this.queue = this.queue.then(() => void this.heads.delete(roomId));
  }

  /** Queues `event` (delivered in seq order per room) for checking. */
  check(event: RoomEvent): void {
    this.queue = this.queue.then(() => this.verify(event)).catch(() => {});
  }

  /** Resolves when every event queued so far was checked. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async verify(e: RoomEvent): Promise<void> {
    const report = (problem: ChainBreak['problem'], detail: string) =>
      this.onBreak({ roomId: e.roomId, seq: e.seq, eventId: e.id, problem, detail });
    const before = this.heads.get(e.roomId);
    const follows = before !== undefined && before.seq === e.seq - 1;
    if (!e.hash || !e.prevHash || !e.contentHash) {
      if (follows) report('unhashed', 'an event without a hash after hashed ones');
      this.heads.delete(e.roomId);
      return;
    }
    const own = await this.sha256(canonicalLink(e.prevHash, e, e.contentHash, e.targetHash ?? null));
    if (own !== e.hash) report('hash', 'its hash is not the hash of its fields');
    else if (follows && e.prevHash !== before.hash) report('link', `prevHash is not the hash of seq ${before.seq}`);
    else if (before !== undefined && e.seq > before.seq + 1) {
      report('link', `events ${before.seq + 1}..${e.seq - 1} never arrived after seq ${before.seq}`);
    }
    const erasedEdit = e.type === 'message.edited' && e.body === '';
    if (!changedMessage(e) && !erasedEdit) {
      // A message's attachments are stored (and hashed) inside its data, carried beside it on the wire.
      const data = e.attachments ? { ...e.data, attachments: e.attachments } : e.data;
      if ((await this.sha256(canonicalContent(e.type, e.body, data))) !== e.contentHash) {
        report('content', 'its body or data do not match its contentHash');
      }
    }
    this.heads.set(e.roomId, { seq: e.seq, hash: e.hash });
  }
}

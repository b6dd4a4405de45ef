import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { PublicUser, Room } from '../protocol/model.js';
import { toPublicUser } from './accounts.js';
import { topics } from './bus.js';
import { ChatError } from './chat-error.js';
import type { AuthContext } from './accounts.js';
import type { DomainContext } from './context.js';
import type { RoomService } from './rooms.js';

/** Avatars are square WebP pictures this many pixels on a side (twice the largest size the web client shows). */
export const AVATAR_EDGE_PX = 256;

export interface AvatarLimits {
  /** Largest upload accepted (MAX_AVATAR_BYTES). */
  maxBytes: number;
  /** Most pixels an upload may declare before it is decoded at all (a decompression bomb is refused unread). */
  maxPixels: number;
}

/** 128 random bits: an avatar URL cannot be guessed, so serving it without a token shows nothing not linked. */
const newAvatarId = () => `av_${randomBytes(16).toString('base64url')}`;

/**
 * Crops the picture to a centred square (the part libvips finds most interesting, for portraits off centre),
 * resizes it to AVATAR_EDGE_PX and re-encodes it as WebP: whatever came in (PNG, JPEG, GIF, WebP, turned upright
 * by its EXIF orientation), what is stored is one small still image with no metadata.
 */
export async function squareAvatar(input: Uint8Array, maxPixels: number): Promise<Buffer> {
  try {
    return await sharp(input, { limitInputPixels: maxPixels, failOn: 'error', animated: false })
      .rotate()
      .resize(AVATAR_EDGE_PX, AVATAR_EDGE_PX, { fit: 'cover', position: sharp.strategy.attention })
      .webp({ quality: 82 })
      .toBuffer();
  } catch (err) {
    throw new ChatError('image_rejected', {
      message: `The picture was refused: ${err instanceof Error ? err.message.slice(0, 160) : 'undecodable'}.`,
    });
  }
}

/** Pictures of users (each sets their own) and rooms (owners and admins): set, clear, and read for serving. */
export class AvatarService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly rooms: RoomService,
    private readonly limits: AvatarLimits,
  ) {}

  /** Picture changes count as profile changes (PROFILE_CHANGES_PER_MINUTE): each is news to many connections. */
  private async limit(auth: AuthContext): Promise<void> {
    const r = await this.ctx.limiter.take(`profile:${auth.user.id}`, this.ctx.limits.rates.profile);
    if (!r.ok) throw new ChatError('rate_limited', { retryAfterMs: r.retryAfterMs });
  }

  private async image(bytes: Uint8Array): Promise<{ id: string; bytes: Uint8Array }> {
    if (bytes.byteLength > this.limits.maxBytes) {
      throw new ChatError('file_too_large', {
        message: `A picture may be at most ${this.limits.maxBytes} bytes (MAX_AVATAR_BYTES).`,
      });
    }
    return { id: newAvatarId(), bytes: await squareAvatar(bytes, this.limits.maxPixels) };
  }

  /** Sets (`bytes`) or clears (null) the caller's picture; everyone connected learns of it (a `profile` notice). */
  async setMine(auth: AuthContext, bytes: Uint8Array | null): Promise<PublicUser> {
    await this.limit(auth);
    const avatar = bytes ? await this.image(bytes) : null;
    const user = toPublicUser(await this.ctx.store.setUserAvatar(auth.user.id, avatar));
    if (user.avatarUrl !== auth.user.avatarUrl) await this.ctx.bus.publish(topics.all, { kind: 'profile', user });
    return user;
  }

  /** Sets or clears a room's picture (the `update` permission: owners and admins); `room.updated` tells members. */
  async setRoom(auth: AuthContext, roomId: string, bytes: Uint8Array | null): Promise<Room> {
    await this.rooms.requireAllowed(auth, roomId, 'update');
    await this.limit(auth);
    const avatar = bytes ? await this.image(bytes) : null;
    const { room, event } = await this.ctx.store.setRoomAvatar(roomId, avatar, auth.user.id);
    await this.rooms.publish([event]);
    return room;
  }

  /** A picture's bytes (WebP), or `not_found`. */
  async get(id: string): Promise<Uint8Array> {
    const bytes = /^av_[A-Za-z0-9_-]{22}$/.test(id) ? await this.ctx.store.getAvatar(id) : null;
    if (!bytes) throw new ChatError('not_found');
    return bytes;
  }
}

import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { AccountService } from '../core/accounts.js';
import type { Bus } from '../core/bus.js';
import type { DomainContext } from '../core/context.js';
import { Hub } from '../core/delivery/hub.js';
import { WriteScheduler } from '../core/delivery/write-scheduler.js';
import { InProcessBus } from '../core/in-process-bus.js';
import { InMemoryPresence } from '../core/in-memory-presence.js';
import { InMemoryNodeDirectory } from '../core/node-directory.js';
import { NotificationService } from '../core/notifications.js';
import { PinService } from '../core/pins.js';
import { BlockService } from '../core/blocks.js';
import { ReadStateService } from '../core/read-state.js';
import { MessageService } from '../core/messages.js';
import { ReactionService } from '../core/reactions.js';
import { LinkPreviewService } from '../core/link-previews.js';
import { createPreviewFetcher } from './previews/fetcher.js';
import { SearchService } from '../core/search.js';
import { PasswordHasher } from '../core/password.js';
import type { Presence } from '../core/presence.js';
import { PresenceNotifier } from '../core/presence-notifier.js';
import { InMemoryRateLimiter, type RateLimiter } from '../core/rate-limiter.js';
import { RoomService } from '../core/rooms.js';
import type { Store } from '../core/store.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { BlobStore } from '../core/blobs.js';
import { FileService, toFileInfo } from '../core/files/file-service.js';
import { FsBlobStore } from '../storage/blobs/fs-blob-store.js';
import { fileRoutes } from './http/routes/files.js';
import { commandRoutes } from './http/routes/commands.js';
import { CommandService } from '../core/commands/command-service.js';
import { openClusterPorts } from './cluster.js';
import { contentFilterFrom, trustProxyOption, type Config } from './config.js';
import { frameworkErrors, installErrorHandling } from './http/errors.js';
import { installJsonParser } from './http/json-body.js';
import { logSerializers } from './log-redaction.js';
import { createMetrics } from './metrics.js';
import { createDeliveryLatencyHistogram, NodeStats } from './node-stats.js';
import { accountRoutes } from './http/routes/accounts.js';
import { messageRoutes } from './http/routes/messages.js';
import { readRoutes } from './http/routes/reads.js';
import { blockRoutes } from './http/routes/blocks.js';
import { avatarRoutes } from './http/routes/avatars.js';
import { AvatarService } from '../core/avatars.js';
import { reactionRoutes } from './http/routes/reactions.js';
import { searchRoutes } from './http/routes/search.js';
import { roomRoutes } from './http/routes/rooms.js';
import { moderationRoutes } from './http/routes/moderation.js';
import { adminRoutes, adminStatsRoutes } from './http/routes/admin.js';
import { AdminService } from '../core/admin.js';
import { ReportService } from '../core/moderation/reports.js';
import { RoomModeration } from '../core/moderation/room-moderation.js';
import { systemRoutes } from './http/routes/system.js';
import { webClientRoutes } from './http/static.js';
import { installSecurityHeaders } from './transport-security.js';
import { BotService } from '../core/bots.js';
import { botRoutes } from './http/routes/bots.js';
import type { Services } from './services.js';
import { Gateway } from './ws/gateway.js';
import { Sessions } from '../core/session/sessions.js';
import { WebhookService } from '../core/webhooks/webhook-service.js';
import { DeliveryWorker } from '../core/webhooks/delivery-worker.js';
import { createTargetCheck, createWebhookSender } from './webhooks/sender.js';
import { webhookRoutes } from './http/routes/webhooks.js';
import { AssistantService } from '../core/assistant/assistant-service.js';
import { assistantBackendFrom } from './assistant/backend-from-config.js';
import { HistoryService } from '../core/history.js';
import { historyRoutes } from './http/routes/history.js';
import { assistantRoutes } from './http/routes/assistant.js';
import { AccountDeletion } from '../core/account-deletion.js';
import { PasswordResets } from '../core/password-reset.js';
import { DataExport } from '../core/data-export.js';
import { keepRoutes } from './http/routes/keep.js';

export interface ChatServer {
  app: FastifyInstance;
  services: Services;
  /** The ports the domain runs on (store, bus, presence, limiter, hasher): for admin tools and tests only. */
  ports: DomainContext;
  gateway: Gateway;
  hub: Hub;
  /** This node's name (NODE_ID, or random per start): in logs, `/readyz` and Redis. */
  nodeId: string;
  /** Starts listening; resolves to the base URL (http://host:port, or https:// with TLS). */
  listen(): Promise<string>;
  /** From now on `/readyz` answers 503 (draining); everything else keeps working. */
  drain(): void;
  /**
   * What SIGTERM does: drain, wait DRAIN_DELAY_MS so the load balancer sees it (skipped when nothing checked
   * `/readyz` in the last minute), then close(). A close() meanwhile cuts the wait short.
   */
  shutdown(): Promise<void>;
  /** Graceful stop: close 1001 to clients, flush and close storage. Idempotent. */
  close(): Promise<void>;
}

/** A drain waits only if a load balancer is watching: a `/readyz` check came in within this window. */
const DRAIN_WATCH_WINDOW_MS = 60_000;

/** Ports a deployment may swap (the cluster passes PostgreSQL/Redis ones); embedded defaults otherwise. */
export interface Adapters {
  store?: Store;
  bus?: Bus;
  presence?: Presence;
  limiter?: RateLimiter;
  /** File bytes (default: files under DATA_DIR/blobs; the cluster passes PostgreSQL's). */
  blobs?: BlobStore;
  logger?: Logger;
  /** Directory of the built web client served at `/` (default: `dist/web`; tests pass a fresh build). */
  webDir?: string;
}

/** The domain built on its ports: `services` for transports, `ports` for the composition root and admin tools. */
export interface Domain {
  services: Services;
  ports: DomainContext;
  /** The file bytes' store (not a DomainContext port: only FileService uses it). */
  blobs: BlobStore;
}

export function buildDomain(config: Config, adapters: Adapters, log: Logger): Domain {
  const ctx: DomainContext = {
    store: adapters.store ?? new SqliteStore({ file: join(config.dataDir, 'chat.db') }),
    bus:
      adapters.bus ??
      new InProcessBus({ onHandlerError: (err, topic) => log.error({ err, topic }, 'bus handler failed') }),
    presence: adapters.presence ?? new InMemoryPresence(),
    limiter: adapters.limiter ?? new InMemoryRateLimiter(),
    hasher: new PasswordHasher({
      log2N: config.scryptLog2N,
      concurrency: config.passwordHashConcurrency,
      queue: config.passwordHashQueue,
    }),
    now: Date.now,
    limits: {
      maxMessageChars: config.maxMessageChars,
      editWindowSeconds: config.editWindowSeconds,
      readReceiptsMaxMembers: config.readReceiptsMaxMembers,
      maxPinsPerRoom: config.maxPinsPerRoom,
      maxBlocksPerUser: config.maxBlocksPerUser,
      maxRoomsPerUser: config.maxRoomsPerUser,
      maxDmMembers: config.maxDmMembers,
      sessionTtlMs: config.sessionTtlDays * 86_400_000,
      firstUserIsAdmin: config.firstUserIsAdmin,
      rates: {
        message: { burst: config.messageBurst, perSecond: config.messagesPerSecond },
        roomCreate: { burst: config.roomsPerMinute, perSecond: config.roomsPerMinute / 60 },
        invite: { burst: config.invitesPerMinute, perSecond: config.invitesPerMinute / 60 },
        register: { burst: config.registrationsPerHour, perSecond: config.registrationsPerHour / 3600 },
        login: { burst: config.loginsPerMinute, perSecond: config.loginsPerMinute / 60 },
        loginFailures: { burst: config.loginFailuresPerMinute, perSecond: config.loginFailuresPerMinute / 60 },
        membership: { burst: config.membershipChangesPerMinute, perSecond: config.membershipChangesPerMinute / 60 },
        roomMembership: {
          burst: config.roomMembershipChangesPerMinute,
          perSecond: config.roomMembershipChangesPerMinute / 60,
        },
        typing: { burst: 2, perSecond: 0.5 },
        report: { burst: config.reportsPerHour, perSecond: config.reportsPerHour / 3600 },
        profile: { burst: config.profileChangesPerMinute, perSecond: config.profileChangesPerMinute / 60 },
        readMark: { burst: config.readMarksPerMinute, perSecond: config.readMarksPerMinute / 60 },
        reaction: { burst: config.reactionsPerMinute, perSecond: config.reactionsPerMinute / 60 },
        block: { burst: config.blockChangesPerMinute, perSecond: config.blockChangesPerMinute / 60 },
        settings: { burst: config.settingsChangesPerMinute, perSecond: config.settingsChangesPerMinute / 60 },
        search: { burst: config.searchPerMinute, perSecond: config.searchPerMinute / 60 },
      },
      maxReactionsPerMessage: config.maxReactionsPerMessage,
      maxMentions: config.maxMentions,
      search: {
        queryMaxChars: config.searchQueryMaxChars,
        maxTerms: config.searchMaxTerms,
        pageMax: config.searchPageMax,
        relevanceMax: config.searchRelevanceMaxResults,
        snippetChars: config.searchSnippetChars,
      },
      flood: { repeats: config.floodRepeats, windowMs: config.floodWindowMs },
      loginLockout: {
        failures: config.loginLockoutFailures,
        baseMs: config.loginLockoutBaseMs,
        maxMs: config.loginLockoutMaxMs,
      },
    },
    filter: contentFilterFrom(config),
  };
  const rooms = new RoomService(ctx);
  const accounts = new AccountService(ctx, { onRegistered: (user) => rooms.joinLobby(user) });
  const messages = new MessageService(ctx, rooms);
  const reads = new ReadStateService(ctx, rooms);
  const pins = new PinService(ctx, rooms);
  const blocks = new BlockService(ctx);
  const notifications = new NotificationService(ctx, rooms);
  const reactions = new ReactionService(ctx, rooms);
  const search = new SearchService(ctx, rooms);
  const moderation = new RoomModeration(ctx, rooms);
  const admin = new AdminService(ctx);
  const reports = new ReportService(ctx, rooms, moderation, admin);
  const bots = new BotService(ctx, rooms, {
    maxCommandsPerBot: config.botMaxCommands,
    managePerMinute: config.botManagePerMinute,
  });
  const blobs = adapters.blobs ?? new FsBlobStore(join(config.dataDir, 'blobs'));
  let secret: Promise<string> | undefined;
  const files = new FileService({
    store: ctx.store,
    blobs,
    limiter: ctx.limiter,
    rooms,
    now: ctx.now,
    limits: {
      maxUploadBytes: config.maxUploadBytes,
      quotaBytes: config.uploadQuotaBytes,
      uploads: { burst: config.uploadsPerMinute, perSecond: config.uploadsPerMinute / 60 },
      maxAttachments: config.maxAttachmentsPerMessage,
      gcGraceMs: config.fileGcGraceSeconds * 1000,
      maxImagePixels: config.maxImagePixels,
      linkTtlMs: config.fileUrlTtlSeconds * 1000,
    },
    // FILE_URL_SECRET, or one kept in the database: the first node to start makes it, every node reads the same.
    secret: () =>
      (secret ??= config.fileUrlSecret
        ? Promise.resolve(config.fileUrlSecret)
        : ctx.store.serverSecret('file-links', randomBytes(32).toString('base64url')).catch((err: unknown) => {
            secret = undefined;
            throw err;
          })),
    spoolDir: join(config.dataDir, 'uploads-tmp'),
  });
  // A check (the files must be the sender's), so before the throttles; after the other checks' cheaper reads.
  messages.pipeline.addStep(files.attachmentsStep(), { after: 'reply target' });
  const avatars = new AvatarService(ctx, rooms, { maxBytes: config.maxAvatarBytes, maxPixels: config.maxImagePixels });
  // LINK_PREVIEWS=off: no fetcher, so the server never makes an outbound request for a message.
  const previews = new LinkPreviewService(
    ctx,
    rooms,
    config.linkPreviews === 'on'
      ? createPreviewFetcher({
          timeoutMs: config.linkPreviewTimeoutMs,
          maxBytes: config.linkPreviewMaxBytes,
          maxRedirects: config.linkPreviewMaxRedirects,
          allow: config.linkPreviewAllowHosts ? config.linkPreviewAllowHosts.split(',').map((h) => h.trim()) : [],
          onRefused: (_url, reason) => log.debug({ reason }, 'link preview refused'),
        })
      : null,
    {
      concurrency: config.linkPreviewConcurrency,
      onError: (err) => log.warn({ err }, 'link preview failed'),
    },
    {
      // The image is stored like an upload of the message's author (their quota; collected when its message goes),
      // typed and thumbnailed from its bytes; anything that is not an image gets no thumbnail and is left out.
      async store(owner, bytes) {
        const file = await files.upload(
          owner,
          { filename: 'link-preview', stream: Readable.from([bytes]), truncated: () => false },
          { limitBytes: config.linkPreviewMaxBytes, byQuota: false },
        );
        return file.thumbSha256 ? toFileInfo(file) : null;
      },
    },
  );
  messages.pipeline.addHook(previews.hook()); // last: it only starts a background fetch
  const webhookHttp = { timeoutMs: config.webhookTimeoutMs, allowPrivate: config.webhookAllowPrivateTargets };
  const webhooks = new WebhookService(
    ctx,
    rooms,
    messages,
    {
      maxPerRoom: config.maxWebhooksPerRoom,
      posts: { burst: config.webhookPostsPerMinute, perSecond: config.webhookPostsPerMinute / 60 },
      signatureMaxAgeMs: config.webhookSignatureTtlSeconds * 1000,
    },
    createTargetCheck(webhookHttp),
  );
  const assistantBackend = assistantBackendFrom(config);
  const assistant = assistantBackend
    ? new AssistantService(ctx, rooms, messages, assistantBackend, {
        username: config.assistantUsername,
        displayName: 'Assistant',
        answersPerHour: config.assistantAnswersPerHour,
        contextMessages: config.assistantContextMessages,
        streamIntervalMs: config.assistantStreamIntervalMs,
        onError: (err) => log.warn({ err }, 'assistant failed'),
      })
    : null;
  // After the publish (the question is out first); the answer itself runs in the background.
  if (assistant) messages.pipeline.addHook(assistant.hook());
  const commands = new CommandService(ctx, { accounts, rooms, messages, moderation });
  commands.setBotCommands(bots.commands);
  const health = { pingStore: () => ctx.store.ping(), pingBus: () => ctx.bus.ping() };
  const services = {
    accounts,
    rooms,
    messages,
    reactions,
    previews,
    search,
    reads,
    notifications,
    pins,
    blocks,
    moderation,
    reports,
    admin,
    files,
    avatars,
    webhooks,
    assistant,
    presence: ctx.presence,
    health,
    bots,
    commands,
    leaving: new AccountDeletion(ctx, accounts, rooms),
    resets: new PasswordResets(ctx, admin, config.passwordResetTtlSeconds * 1000),
    exporter: new DataExport(ctx),
    history: new HistoryService(ctx, rooms),
  };
  return { services, ports: ctx, blobs };
}

/** The composition root: wires config, ports, domain and transports into one server. */
export async function createChatServer(config: Config, adapters: Adapters = {}): Promise<ChatServer> {
  const nodeId = config.nodeId || randomBytes(4).toString('hex');
  const clustered = Boolean(config.databaseUrl || config.redisUrl || config.nodeId);
  // Request logs carry no query values (a token put in a URL must not reach the logs), also on a logger passed in.
  const log = (
    adapters.logger ??
    pino({
      level: config.logLevel,
      redact: ['req.headers.authorization', '*.headers.authorization', 'token', '*.token', '*.password'],
      ...(clustered ? { base: { pid: process.pid, hostname: hostname(), node: nodeId } } : {}),
    })
  ).child({}, { serializers: logSerializers });
  // DATABASE_URL / REDIS_URL select the cluster ports (adapters passed in still win).
  const ports = await openClusterPorts(config, nodeId, log, {
    store: !!adapters.store,
    bus: !!adapters.bus,
    presence: !!adapters.presence,
    limiter: !!adapters.limiter,
    blobs: !!adapters.blobs,
  });
  let domain: Domain;
  try {
    domain = buildDomain(
      config,
      {
        ...adapters,
        store: adapters.store ?? ports.store,
        bus: adapters.bus ?? ports.bus,
        presence: adapters.presence ?? ports.presence,
        limiter: adapters.limiter ?? ports.limiter,
        blobs: adapters.blobs ?? ports.blobs,
      },
      log,
    );
    await domain.services.rooms.ensureLobby();
    await domain.services.assistant?.start();
  } catch (err) {
    await ports.close();
    throw err;
  }
  const { services, ports: ctx } = domain;

  // TLS_CERT_FILE + TLS_KEY_FILE: HTTPS and WSS on the same port. (An https.Server serves the same API as an
  // http.Server, which is what the rest of the code is typed against.)
  const tls = config.tlsCertFile
    ? { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) }
    : null;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.maxHttpBodyBytes,
    // Behind a load balancer: req.ip (per-IP limits, logs) from X-Forwarded-For when the peer is trusted.
    trustProxy: trustProxyOption(config.trustProxy),
    // Malformed URLs are refused by the router itself: give them the catalog's error shape too.
    frameworkErrors,
    https: tls,
  }) as unknown as FastifyInstance;
  installJsonParser(app);
  installErrorHandling(app);
  installSecurityHeaders(app, config);
  accountRoutes(app, services);
  roomRoutes(app, services);
  messageRoutes(app, services);
  readRoutes(app, services);
  blockRoutes(app, services);
  avatarRoutes(app, services, config.maxAvatarBytes);
  reactionRoutes(app, services);
  searchRoutes(app, services);
  moderationRoutes(app, services);
  adminRoutes(app, services);
  fileRoutes(app, services);
  webhookRoutes(app, services);
  assistantRoutes(app, services);
  botRoutes(app, services);
  commandRoutes(app, services);
  keepRoutes(app, services);
  historyRoutes(app, services);

  const notifier = new PresenceNotifier(
    {
      store: ctx.store,
      bus: ctx.bus,
      presence: ctx.presence,
      flushMs: config.presenceFlushMs,
      fanoutMaxMembers: config.presenceFanoutMaxMembers,
      countIntervalMs: config.presenceCountIntervalMs,
    },
    (err) => log.warn({ err }, 'presence flush failed'),
  );
  const latency = createDeliveryLatencyHistogram();
  const hub = new Hub({
    store: ctx.store,
    bus: ctx.bus,
    writes: new WriteScheduler({
      busyWindowMs: config.busyWriteWindowMs,
      busyUtilization: config.busyUtilizationPercent / 100,
      onError: (err) => log.error({ err }, 'delivery flush failed'),
    }),
    replayPageSize: config.replayPageSize,
    replayLowWaterBytes: Math.floor(config.maxOutboundBytes / 4),
    log,
    // Big rooms: each node puts its own online count into the presence frames it delivers.
    presenceCount: (m) => notifier.countFor(m),
    onDeliveryLatency: (ms) => latency.observe(ms / 1000),
  });
  const sessions = new Sessions(
    {
      accounts: services.accounts,
      rooms: services.rooms,
      messages: services.messages,
      presence: notifier,
      hub,
      now: ctx.now,
    },
    {
      helloTimeoutMs: config.helloTimeoutMs,
      heartbeatMs: config.heartbeatMs,
      sessionRecheckMs: config.sessionRecheckMs,
      maxFrameBytes: config.maxFrameBytes,
      maxMessageChars: config.maxMessageChars,
      maxUploadBytes: config.maxUploadBytes,
      maxAttachmentsPerMessage: config.maxAttachmentsPerMessage,
      features: { assistant: services.assistant !== null },
      maxOutboundBytes: config.maxOutboundBytes,
      maxConnectionsPerUser: config.maxConnectionsPerUser,
      maxViewedRooms: config.maxViewedRooms,
      frameErrorsPerMinute: config.frameErrorsPerMinute,
      typing: ctx.limits.rates.typing,
    },
    log,
  );
  const gateway = new Gateway(config, sessions, log);
  ports.wire({ hub, notifier, store: ctx.store, bus: ctx.bus, presence: ctx.presence, sessions });
  const readiness = { draining: false, lastCheckAt: 0, nodeId };
  const metrics = config.metricsToken
    ? {
        registry: createMetrics({ gateway, hub, messages: services.messages, latency, presence: ctx.presence }),
        token: config.metricsToken,
      }
    : null;
  const stats = new NodeStats({
    nodeId,
    clustered,
    gateway,
    hub,
    messages: services.messages,
    presence: ctx.presence,
    latency,
    directory: ports.nodes ?? new InMemoryNodeDirectory(),
    busyAbove: config.busyUtilizationPercent / 100,
    log,
  });
  systemRoutes(app, services, gateway, readiness, metrics);
  adminStatsRoutes(app, services, stats);
  webClientRoutes(app, adapters.webDir);
  app.server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));

  // Unattached uploads and unused blobs, collected on every node (each pass is safe alongside the others').
  const gcTimer =
    config.fileGcIntervalSeconds > 0
      ? setInterval(() => {
          services.files
            .collect()
            .then((r) => {
              if (r.files + r.blobs > 0) log.info(r, 'file collection');
            })
            .catch((err: unknown) => log.warn({ err }, 'file collection failed'));
        }, config.fileGcIntervalSeconds * 1000)
      : undefined;
  gcTimer?.unref();

  // Outgoing webhooks: every node delivers from the store's durable queue (claims are leased, see WebhookStore).
  const deliveries = new DeliveryWorker(
    ctx,
    createWebhookSender({ timeoutMs: config.webhookTimeoutMs, allowPrivate: config.webhookAllowPrivateTargets }),
    {
      nodeId,
      pollMs: config.webhookPollMs,
      leaseMs: config.webhookLeaseMs,
      timeoutMs: config.webhookTimeoutMs,
      concurrency: config.webhookConcurrency,
      retryDelaysMs: config.webhookRetryDelaysSeconds
        ? config.webhookRetryDelaysSeconds.split(',').map((s) => Math.round(Number(s) * 1000))
        : [],
      logRetentionMs: config.webhookLogRetentionDays * 86_400_000,
      onError: (err) => log.warn({ err }, 'webhook delivery pass failed'),
    },
  );
  deliveries.start();

  let closed: Promise<void> | undefined;
  let endDrainWait: (() => void) | undefined;
  const server: ChatServer = {
    app,
    services,
    ports: ctx,
    gateway,
    hub,
    nodeId,
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      const addr = app.server.address();
      if (!addr || typeof addr === 'string') throw new Error('server did not bind a TCP port');
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return `${tls ? 'https' : 'http'}://${host}:${addr.port}`;
    },
    drain() {
      readiness.draining = true;
    },
    async shutdown() {
      server.drain();
      const watched = readiness.lastCheckAt > 0 && Date.now() - readiness.lastCheckAt < DRAIN_WATCH_WINDOW_MS;
      if (watched && config.drainDelayMs > 0 && !closed) {
        log.info({ drainDelayMs: config.drainDelayMs }, 'draining: /readyz answers 503 before connections close');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, config.drainDelayMs);
          endDrainWait = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await server.close();
    },
    close() {
      endDrainWait?.();
      readiness.draining = true;
      closed ??= (async () => {
        clearInterval(gcTimer);
        await gateway.close(config.shutdownGraceMs);
        ports.unwire();
        await stats.stop();
        notifier.close();
        hub.close();
        // A connection that has sent no request yet (browsers pre-open them) would hold close() open until
        // Node's headersTimeout (60 s): give requests in flight the grace period, then cut what is left.
        const cut = setTimeout(() => app.server.closeAllConnections(), config.shutdownGraceMs);
        await app.close().finally(() => clearTimeout(cut));
        // Previews in flight finish (each bounded by LINK_PREVIEW_TIMEOUT_MS) before the store closes.
        await services.previews.close();
        // Deliveries in flight finish (each bounded by WEBHOOK_TIMEOUT_MS) and move their cursors before the store closes.
        await deliveries.close();
        await services.assistant?.close();
        await ctx.bus.close();
        await ctx.presence.close();
        await ctx.limiter.close();
        await domain.blobs.close();
        await ctx.store.close();
      })();
      return closed;
    },
  };
  return server;
}

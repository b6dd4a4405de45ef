import type { Bus, BusEventHandler, BusHandler, BusMessage } from './bus.js';

/**
 * The embedded bus: a topic → handlers map in this process. Handlers run synchronously inside `publish`,
 * so per-topic order is publish order. A cluster bus extends this and adds publishing across nodes.
 */
export class InProcessBus implements Bus {
  protected readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly onHandlerError: (err: unknown, topic: string) => void;

  constructor(opts: { onHandlerError?: (err: unknown, topic: string) => void } = {}) {
    this.onHandlerError = opts.onHandlerError ?? (() => {});
  }

  publish(topic: string, message: BusMessage): Promise<void> {
    this.deliverLocal(topic, message);
    return Promise.resolve();
  }

  /** Hands a message to this process's handlers of `topic`. */
  protected deliverLocal(topic: string, message: BusMessage): void {
    const set = this.handlers.get(topic);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(message);
      } catch (err) {
        this.onHandlerError(err, topic);
      }
    }
  }

  subscribe(topic: string, handler: BusHandler): void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
  }

  unsubscribe(topic: string, handler: BusHandler): void {
    const set = this.handlers.get(topic);
    if (!set) return;
    set.delete(handler);
    if (set.size === 0) this.handlers.delete(topic);
  }

  /** Nothing to report in one process: never lost, and a subscription holds at once. */
  setEventHandler(_handler: BusEventHandler): void {}

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.handlers.clear();
    return Promise.resolve();
  }
}

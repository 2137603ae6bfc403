import { once } from 'node:events';
import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

/**
 * What the proxy does to the traffic between a client and its target:
 * - `pass`: forwards every byte as it comes;
 * - `{ delayMs }`: forwards every byte, each way, `delayMs` after it arrived (order kept);
 * - `swallow`: accepts connections and reads what arrives, but never forwards it, never answers and
 *   never closes or resets anything: a peer that has gone silent;
 * - `reset`: resets every open connection, and every new one as soon as it is accepted.
 *
 * A mode applies from the moment it is set, to open connections as to new ones. A connection that has
 * lost bytes to `swallow` keeps swallowing after the mode changes (forwarding the rest of a stream
 * with a hole in it would hand the target garbage): only its client can end it, as a client gives
 * up on a dead connection. New connections follow the new mode.
 */
export type ProxyMode = 'pass' | 'swallow' | 'reset' | { delayMs: number };

interface Link {
  client: Socket;
  target: Socket;
  /** Lost bytes to `swallow`: never forwards again. */
  broken: boolean;
}

export class TcpProxy {
  private current: ProxyMode = 'pass';
  private readonly links = new Set<Link>();

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
    private readonly targetHost: string,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** A proxy on a free port of 127.0.0.1 to `targetHost:targetPort`, in `pass` mode. */
  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, targetPort, targetHost);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The target as a single MongoDB server behind this proxy (no discovery of other hosts around it). */
  get mongoUri(): string {
    return `mongodb://127.0.0.1:${this.port}/?directConnection=true`;
  }

  get mode(): ProxyMode {
    return this.current;
  }

  /** Open client connections. */
  get connections(): number {
    return this.links.size;
  }

  setMode(mode: ProxyMode): void {
    this.current = mode;
    if (mode === 'reset') {
      for (const link of [...this.links]) {
        this.reset(link);
      }
    }
  }

  /** Stops accepting and destroys every connection. */
  async close(): Promise<void> {
    for (const link of [...this.links]) {
      this.drop(link);
    }
    if (this.server.listening) {
      this.server.close();
      await once(this.server, 'close');
    }
  }

  private accept(client: Socket): void {
    client.setNoDelay(true);
    const target = createConnection({ port: this.targetPort, host: this.targetHost });
    target.setNoDelay(true);
    const link: Link = { client, target, broken: false };
    this.links.add(link);
    // Errors end the link; they are expected here (resets, a target that stopped).
    client.on('error', () => this.drop(link));
    target.on('error', () => this.drop(link));
    client.on('close', () => this.drop(link));
    // A target that goes away takes the client's connection with it, unless the proxy is swallowing:
    // then nothing reaches the client, not even a close.
    target.on('close', () => {
      if (this.current === 'swallow' || link.broken) {
        link.broken = true;
      } else {
        this.drop(link);
      }
    });
    if (this.current === 'reset') {
      this.reset(link);
      return;
    }
    this.forward(link, client, target);
    this.forward(link, target, client);
  }

  /** Bytes from `from` to `to`, as the mode in force when they arrive says. */
  private forward(link: Link, from: Socket, to: Socket): void {
    const queue: Array<{ chunk: Buffer; due: number }> = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0].due <= Date.now()) {
        const { chunk } = queue.shift() as { chunk: Buffer };
        if (!link.broken && !to.destroyed) {
          to.write(chunk);
        }
      }
      if (queue.length > 0) {
        timer = setTimeout(pump, queue[0].due - Date.now());
      }
    };
    from.on('data', (chunk: Buffer) => {
      const mode = this.current;
      if (mode === 'swallow' || link.broken) {
        link.broken = true;
        return;
      }
      if (mode === 'reset') {
        this.reset(link);
        return;
      }
      const delayMs = typeof mode === 'object' ? mode.delayMs : 0;
      if (delayMs === 0 && queue.length === 0) {
        to.write(chunk);
        return;
      }
      queue.push({ chunk, due: Date.now() + delayMs });
      timer ??= setTimeout(pump, Math.max(0, queue[0].due - Date.now()));
    });
    from.on('close', () => clearTimeout(timer));
  }

  private reset(link: Link): void {
    this.links.delete(link);
    link.client.resetAndDestroy();
    link.target.destroy();
  }

  private drop(link: Link): void {
    this.links.delete(link);
    link.client.destroy();
    link.target.destroy();
  }
}

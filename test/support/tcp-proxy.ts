/**
 * A loopback TCP proxy whose link can be cut and restored, so a test can make Redis (or anything else)
 * unreachable mid-run without stopping the server behind it: `redis://127.0.0.1:<proxy.port>/<db>`.
 */
import { createServer, type Socket, connect as tcpConnect } from 'node:net';

export interface TcpProxy {
  /** Loopback port the proxy listens on. */
  readonly port: number;
  /** Client ↔ target pairs open right now. */
  readonly connections: number;
  readonly isCut: boolean;
  /**
   * Resets every open connection both ways and, until `restore()`, resets each new one as soon as it is
   * accepted: clients see ECONNRESET at once instead of hanging on a silent socket.
   */
  cut(): void;
  restore(): void;
  /** Cuts everything and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let isCut = false;

  const server = createServer((client) => {
    if (isCut) {
      // RST rather than FIN: a FIN looks like a clean close, which some clients retry more slowly.
      client.resetAndDestroy();
      return;
    }
    const upstream = tcpConnect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    const reset = (): void => {
      pairs.delete(pair);
      // Reset the other side too, so a target going away looks the same to the client as a cut.
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    // A clean close on one side is passed on as a clean close (after what is still buffered is written).
    const closeOther = (other: Socket) => (): void => {
      pairs.delete(pair);
      if (!other.destroyed) other.end();
    };
    client.on('error', reset);
    upstream.on('error', reset);
    client.on('close', closeOther(upstream));
    upstream.on('close', closeOther(client));
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('tcp proxy: no port from listen(0)');

  const cutAll = (): void => {
    for (const { client, upstream } of [...pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  };

  return {
    port: address.port,
    get connections() {
      return pairs.size;
    },
    get isCut() {
      return isCut;
    },
    cut() {
      isCut = true;
      cutAll();
    },
    restore() {
      isCut = false;
    },
    close() {
      isCut = true;
      cutAll();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

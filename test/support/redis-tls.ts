/**
 * A throwaway redis-server that speaks only TLS, for `rediss://` tests. Each start makes a CA and a server
 * certificate for `localhost` and `127.0.0.1` with openssl in a temp dir, runs redis-server on a free loopback port
 * with its plain port off (so every connection that works is TLS) and a password, and `stop()` kills it and
 * deletes the dir. Like `test/global-setup.ts`, never the developer's own 6379 or anyone's database.
 *
 * `startSniFront` is a TLS front in front of it that records the server name (SNI) each connection sent, as a
 * managed service's TLS proxy would route on it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { onFreePort, spawnRedisServer, startInTempDir, waitForServer } from './redis-process.js';

const run = promisify(execFile);

export interface TlsRedisServer {
  readonly port: number;
  /** Required by the server (`requirepass`), as on a managed Redis; it must never show up in an error or log. */
  readonly password: string;
  /** PEM of the CA that signed the server certificate: what a client must trust. */
  readonly ca: string;
  /** That CA as a file, for `NODE_EXTRA_CA_CERTS`. */
  readonly caFile: string;
  /** The server certificate and key, for a TLS front that presents the same identity. */
  readonly cert: string;
  readonly key: string;
  /** `rediss://:<password>@<host>:<port>/<db>`; `host` defaults to `localhost` (a name, so SNI is sent). */
  url(db: number, opts?: { host?: string; port?: number }): string;
  stop(): Promise<void>;
}

export function startTlsRedisServer(): Promise<TlsRedisServer> {
  return startInTempDir('fsb-redis-tls-', async (dir) => {
    const files = await makeCertificates(dir);
    const [ca, cert, key] = await Promise.all([
      readFile(files.ca, 'utf8'),
      readFile(files.cert, 'utf8'),
      readFile(files.key, 'utf8'),
    ]);
    const password = randomBytes(12).toString('hex');
    return onFreePort(async (port) => {
      const child = await spawnRedisServer(tlsRedisArgs({ port, dir, password, ...files }), () =>
        waitForServer(`TLS redis-server on port ${port}`, async () =>
          (await tlsPing(port, ca, password)).includes('+PONG'),
        ),
      );
      const url = (db: number, opts: { host?: string; port?: number } = {}) =>
        `rediss://:${password}@${opts.host ?? 'localhost'}:${opts.port ?? port}/${db}`;
      return { child, handle: { port, password, ca, caFile: files.ca, cert, key, url } };
    });
  });
}

interface CertificateFiles {
  ca: string;
  cert: string;
  key: string;
}

/** A CA valid for a day and a server certificate it signed, with both names a loopback client may dial. */
async function makeCertificates(dir: string): Promise<CertificateFiles> {
  const path = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=feishu-stats-bot throwaway test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', [
    'req',
    ...ec,
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  await writeFile(
    path('server.ext'),
    'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '1',
    '-extfile',
    path('server.ext'),
    '-out',
    path('server.pem'),
  ]);
  return { ca: path('ca.pem'), cert: path('server.pem'), key: path('server.key') };
}

interface SpawnOptions extends CertificateFiles {
  port: number;
  dir: string;
  password: string;
}

function tlsRedisArgs(opts: SpawnOptions): string[] {
  return [
    '--port',
    '0',
    '--tls-port',
    String(opts.port),
    '--bind',
    '127.0.0.1',
    '--tls-cert-file',
    opts.cert,
    '--tls-key-file',
    opts.key,
    '--tls-ca-cert-file',
    opts.ca,
    '--tls-auth-clients',
    'no',
    '--requirepass',
    opts.password,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    opts.dir,
    '--loglevel',
    'warning',
  ];
}

/** AUTH and PING in RESP by hand, so readiness depends on nothing but the server just started. */
function tlsPing(port: number, ca: string, password: string): Promise<string> {
  const resp = (args: string[]) =>
    `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      socket.write(resp(['AUTH', password]) + resp(['PING']));
    });
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.split('\r\n').length > 2) {
        socket.end();
        resolve(reply);
      }
    });
  });
}

export interface SniFront {
  /** Loopback port to dial instead of the server's: `server.url(db, { port: front.port })`. */
  readonly port: number;
  /** The SNI each accepted connection sent, in order; `false` for none. */
  readonly servernames: ReadonlyArray<string | false>;
  close(): Promise<void>;
}

/**
 * Terminates TLS with the server's own certificate, records the client's SNI, and relays the plaintext to the
 * server over a second, verified TLS connection. Sockets are destroyed in pairs, so neither side hangs.
 */
export async function startSniFront(server: TlsRedisServer): Promise<SniFront> {
  const servernames: Array<string | false> = [];
  const sockets = new Set<TLSSocket>();
  const front = createTlsServer({ cert: server.cert, key: server.key }, (client) => {
    servernames.push(client.servername || false);
    const upstream = tlsConnect({
      host: '127.0.0.1',
      port: server.port,
      ca: server.ca,
      servername: 'localhost',
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  // A handshake the client aborts is an outcome of the client, not a failure of the front.
  front.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, '127.0.0.1', () => resolve());
  });
  const address = front.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    servernames,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}

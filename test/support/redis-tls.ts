/**
 * A throwaway redis-server that speaks only TLS, for `rediss://` tests. Each start makes a CA and a server
 * certificate for `localhost` and `127.0.0.1` with openssl in a temp dir, runs redis-server on a free loopback port
 * with its plain port off (so every connection that works is TLS) and a password, and `stop()` kills it and
 * deletes the dir. Like `test/global-setup.ts`, never the developer's own 6379 or anyone's database.
 *
 * `startSniFront` is a TLS front in front of it that records the server name (SNI) each connection sent, as a
 * managed service's TLS proxy would route on it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';

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

export async function startTlsRedisServer(): Promise<TlsRedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'fsb-redis-tls-'));
  try {
    const files = await makeCertificates(dir);
    const [ca, cert, key] = await Promise.all([
      readFile(files.ca, 'utf8'),
      readFile(files.cert, 'utf8'),
      readFile(files.key, 'utf8'),
    ]);
    const password = randomBytes(12).toString('hex');
    // The free port is found by a bind-then-close, so another process may take it before redis does; retry.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await findFreePort();
      try {
        const child = await spawnTlsRedis({ port, dir, password, ...files }, ca);
        return {
          port,
          password,
          ca,
          caFile: files.ca,
          cert,
          key,
          url: (db, opts = {}) =>
            `rediss://:${password}@${opts.host ?? 'localhost'}:${opts.port ?? port}/${db}`,
          stop: async () => {
            await stopProcess(child);
            await rm(dir, { recursive: true, force: true });
          },
        };
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
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

async function spawnTlsRedis(opts: SpawnOptions, caPem: string): Promise<ChildProcess> {
  const args = [
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
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  // If vitest dies without running afterAll, do not leave an orphan server behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  const spawnFailure = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new Error('redis-server is not installed; the TLS tests need a throwaway one built with TLS')
          : err,
      );
    });
    child.once('exit', (code, signal) => {
      // e.g. "Bad directive or wrong number of arguments" from a redis-server built without TLS.
      reject(new Error(`redis-server exited early (code ${code}, signal ${signal}):\n${output.trim()}`));
    });
  });
  spawnFailure.catch(() => {}); // Observed below via Promise.race; this only silences the late one.

  try {
    await Promise.race([waitForTlsPong(opts.port, caPem, opts.password, 5_000), spawnFailure]);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return child;
}

/** Resolves once the server completes a verified TLS handshake and answers AUTH + PING. */
async function waitForTlsPong(port: number, ca: string, password: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if ((await tlsPing(port, ca, password)).includes('+PONG')) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `TLS redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${String(lastError)}`,
  );
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

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

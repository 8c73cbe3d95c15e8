/**
 * Event deliveries for multi-process tests, as Feishu makes them (encrypted and signed, like `deliver` in
 * test/helper.ts), that never throw: a server killed mid-burst is an outcome to count, not a test crash.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { buildEncryptedRequest } from '../emulator/fixtures.js';
import { TEST_ENCRYPT_KEY } from '../helper.js';

export interface DeliveryResult {
  /** HTTP status, or 'error' when no answer came (refused, reset, timed out). */
  status: number | 'error';
  /** What went wrong for 'error': e.g. `ECONNREFUSED`, `ECONNRESET`, `timeout after 5000 ms`. */
  error?: string;
  /** Response body text when there was one. */
  body?: string;
}

export interface DeliverOptions {
  encryptKey?: string;
  /** Whole request, connect to last byte of the answer; default 5 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

// Keep-alive so a burst of hundreds of deliveries does not spend its time in TCP handshakes, or run out of
// ephemeral ports in TIME_WAIT.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs `envelope` to `${url}/webhook/event`, encrypted and signed with `encryptKey` (default TEST_ENCRYPT_KEY). */
export function deliverEvent(
  url: string,
  envelope: object,
  opts: DeliverOptions = {},
): Promise<DeliveryResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { body, headers } = buildEncryptedRequest(envelope, opts.encryptKey ?? TEST_ENCRYPT_KEY, {
    nonce: randomBytes(6).toString('hex'),
  });
  return new Promise<DeliveryResult>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: DeliveryResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let req: ReturnType<typeof request>;
    try {
      req = request(`${url}/webhook/event`, {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      });
    } catch (err) {
      // A malformed URL throws synchronously; still an outcome, not an exception.
      finish({ status: 'error', error: describeError(err) });
      return;
    }
    timer = setTimeout(() => {
      req.destroy(new Error(`timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => finish({ status: 'error', error: describeError(err) }));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      // Reading to the end returns the socket to the keep-alive pool.
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: text }));
      // The server died after the status line: the status did arrive, so report it.
      res.on('error', () => finish({ status: res.statusCode ?? 0, body: text }));
    });
    req.end(body);
  });
}

export interface DeliveryOutcome extends DeliveryResult {
  /** Position of the envelope in the list given to `deliverMany`. */
  index: number;
  url: string;
  envelope: object;
}

export interface DeliverManyOptions extends DeliverOptions {
  /** Deliveries in flight at once; default 8. */
  concurrency?: number;
  /** Called as each delivery finishes, e.g. to kill a server after the Nth 200. */
  onResult?: (outcome: DeliveryOutcome) => void;
}

/**
 * Delivers every envelope, `concurrency` at a time, and returns the outcomes in envelope order.
 * `targets`: one URL, a list used round-robin by index, or a function (read when each delivery starts, so a
 * test can point the rest of a burst at a restarted server).
 */
export async function deliverMany(
  targets: string | readonly string[] | ((index: number) => string),
  envelopes: readonly object[],
  opts: DeliverManyOptions = {},
): Promise<DeliveryOutcome[]> {
  const targetFor = (index: number): string => {
    if (typeof targets === 'string') return targets;
    if (typeof targets === 'function') return targets(index);
    const url = targets[index % targets.length];
    if (url === undefined) throw new Error('deliverMany: no target URLs given');
    return url;
  };
  const outcomes: DeliveryOutcome[] = new Array(envelopes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < envelopes.length) {
      const index = next++;
      const envelope = envelopes[index] as object;
      const url = targetFor(index);
      const outcome = { index, url, envelope, ...(await deliverEvent(url, envelope, opts)) };
      outcomes[index] = outcome;
      opts.onResult?.(outcome);
    }
  };
  const workers = Math.max(1, Math.min(opts.concurrency ?? 8, envelopes.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return outcomes;
}

/** Drops idle keep-alive sockets, e.g. in `afterAll` (they are unref'd, so this is tidiness, not a must). */
export function closeDeliveryAgent(): void {
  agent.destroy();
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

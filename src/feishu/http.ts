import http from 'node:http';
import https from 'node:https';
import axios, { AxiosError, type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import { timeLeftMs } from '../util/deadline.js';

/**
 * Non-enumerable key under which the response headers ride on an object body. Feishu answers some failures
 * (99991400 rate limit, 99991663 token) with HTTP 200 and `code ≠ 0`; the SDK then resolves the bare body, so
 * this is the only way to still see `x-ogw-ratelimit-reset` and `x-tt-logid`.
 */
export const RESPONSE_HEADERS: unique symbol = Symbol('feishu.responseHeaders');

export type ResponseHeaders = Readonly<Record<string, string>>;

export interface HttpInstanceOptions {
  /** Per request, including the token request; the SDK sets none by default. */
  timeoutMs: number;
}

/** Headers attached to a body by the interceptor, if any. */
export function readResponseHeaders(body: unknown): ResponseHeaders | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  return (body as { [RESPONSE_HEADERS]?: ResponseHeaders })[RESPONSE_HEADERS];
}

/** Lower-cased, string-only copy; AxiosHeaders carries methods and may hold arrays (set-cookie). */
export function toPlainHeaders(headers: unknown): ResponseHeaders {
  const plain: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return plain;
  const source =
    typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? (headers as { toJSON(): Record<string, unknown> }).toJSON()
      : (headers as Record<string, unknown>);
  for (const [name, value] of Object.entries(source)) {
    if (typeof value === 'string' || typeof value === 'number') plain[name.toLowerCase()] = String(value);
    else if (Array.isArray(value)) plain[name.toLowerCase()] = value.join(', ');
  }
  return plain;
}

/**
 * An axios instance shaped like the SDK's `defaultHttpInstance`: the SDK's typed calls expect the interceptor
 * to resolve to the response *body* (or `{data, headers}` when a call sets `$return_headers`), so the instance
 * is typed as AxiosInstance but its calls resolve to bodies.
 */
export function createHttpInstance({ timeoutMs }: HttpInstanceOptions): AxiosInstance {
  const instance = axios.create({
    timeout: timeoutMs,
    httpAgent: new http.Agent({ keepAlive: true }),
    httpsAgent: new https.Agent({ keepAlive: true }),
  });
  // axios' `timeout` only watches socket inactivity: once headers have arrived a stalled body ends as an
  // anonymous "stream has been aborted". A wall-clock deadline per request bounds it and names it.
  instance.interceptors.request.use((config) => {
    // Never past the deadline of the command the call serves (src/util/deadline.ts).
    const left = timeLeftMs();
    const deadline = AbortSignal.timeout(
      left === undefined ? timeoutMs : Math.max(0, Math.floor(Math.min(timeoutMs, left))),
    );
    config.signal = config.signal ? AbortSignal.any([config.signal as AbortSignal, deadline]) : deadline;
    return config;
  });
  instance.interceptors.response.use(
    (response) => resolveBody(response),
    (error: unknown) => {
      if (
        isAxiosError(error) &&
        isDeadlineReason((error.config?.signal as AbortSignal | undefined)?.reason)
      ) {
        error.code = AxiosError.ETIMEDOUT;
        error.message = `timeout of ${timeoutMs}ms exceeded`;
      }
      return Promise.reject(error);
    },
  );
  return instance;
}

function isDeadlineReason(reason: unknown): boolean {
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError.
  return (
    typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError'
  );
}

function resolveBody(response: AxiosResponse): AxiosResponse {
  const body: unknown = response.data;
  if ((response.config as { $return_headers?: boolean }).$return_headers) {
    // Same contract as the SDK's default instance; a few file-download calls read headers this way.
    return { data: body, headers: response.headers } as unknown as AxiosResponse;
  }
  if (typeof body === 'object' && body !== null && Object.isExtensible(body)) {
    Object.defineProperty(body, RESPONSE_HEADERS, {
      value: toPlainHeaders(response.headers),
      enumerable: false,
    });
  }
  // The SDK contract, not axios', decides the resolved value: see createHttpInstance.
  return body as AxiosResponse;
}

/** Closes the idle keep-alive sockets so the process can exit. */
export function destroyHttpAgents(instance: AxiosInstance): void {
  for (const agent of [instance.defaults.httpAgent, instance.defaults.httpsAgent]) {
    if (agent instanceof http.Agent) agent.destroy();
  }
}

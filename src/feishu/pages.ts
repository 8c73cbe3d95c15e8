import type { Page } from './types.js';

export interface PageOptions {
  pageToken?: string;
  pageSize?: number;
}

/** Within Feishu's bounds: an out-of-range page_size is a 400 for the whole request. */
export function pageSize(requested: number | undefined, fallback: number, max: number): number {
  if (requested === undefined || !Number.isFinite(requested)) return fallback;
  return Math.min(max, Math.max(1, Math.trunc(requested)));
}

/** A page token is only worth keeping when Feishu says there is more to fetch with it. */
export function toPage<T>(items: T[], data: { has_more?: boolean; page_token?: string }): Page<T> {
  const pageToken = data.has_more ? data.page_token || undefined : undefined;
  return pageToken ? { items, hasMore: true, pageToken } : { items, hasMore: false };
}

/** `last_view_time` / `last_liked_time` arrive as strings of epoch seconds. */
export function epochSeconds(value: string | number | undefined): number {
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds : 0;
}

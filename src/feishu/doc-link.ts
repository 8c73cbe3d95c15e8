import type { DocLink, FileType } from './types.js';

/**
 * Turns one pasted link into a (token, file_type) pair for the drive analytics APIs.
 * Path → type table: FEISHU.md "Document links"; wiki nodes are resolved later with
 * https://open.feishu.cn/document/server-docs/docs/wiki-v2/space-node/get_node
 */

type DocType = Exclude<FileType, 'wiki'>;

const FEISHU_DOMAINS = ['feishu.cn', 'larksuite.com', 'larkoffice.com'] as const;

/** Documented tokens are 27 alphanumerics; old prefixed ones (`doccn…`) are shorter, hence the range. */
const TOKEN_PATTERN = /^[A-Za-z0-9]{10,64}$/;

/** First path segment → document type, for the links Feishu produces today. */
const CURRENT_PATHS: Readonly<Record<string, DocType>> = {
  docx: 'docx',
  docs: 'doc',
  doc: 'doc',
  sheets: 'sheet',
  base: 'bitable',
  mindnotes: 'mindnote',
  file: 'file',
  slides: 'slides',
};

/**
 * Pre-2021 links: `/space/<type>/<token>` or `/<type>/<token>` with singular names. The Lark iOS
 * client matches them with `^(/space)?/(doc|sheet|mindnote|slide|file|bitable|folder)/<token>`
 * (larksuite DocsUrlUtil tests); `slide` is left out because the old slides product is not the
 * `slides` file type the drive APIs take.
 */
const LEGACY_PATHS: Readonly<Record<string, DocType>> = {
  doc: 'doc',
  sheet: 'sheet',
  bitable: 'bitable',
  mindnote: 'mindnote',
  file: 'file',
};

/** What chat clients glue onto a pasted link: closing brackets, quotes, ASCII and CJK punctuation. */
const TRAILING_JUNK = `),.;:!?"'>]}。，；：！？、）」』】》”’`;
const LEADING_JUNK = `("'[（「『【《“‘`;

const NO_TOKEN = 'link without a document token';

/** True for hosts we accept: feishu.cn, larksuite.com, larkoffice.com and any (multi-level) subdomain of them. */
export function isFeishuHost(hostname: string): boolean {
  // A fully qualified name may end in a dot (`x.feishu.cn.`); it is the same host.
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const labels = host.split('.');
  // Empty labels (`.feishu.cn`, `a..feishu.cn`) and odd characters never name a real tenant host.
  if (labels.some((label) => !/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(label))) return false;
  // Suffix match on whole labels, so `evilfeishu.cn` and `feishu.cn.evil.com` fail.
  return FEISHU_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

/** Parse one URL string into a DocLink, or null when it is not a Feishu/Lark link at all (or not a URL). */
export function parseDocLink(input: string): DocLink | null {
  const url = toUrl(stripChatDecoration(input));
  if (!url || !isFeishuHost(url.hostname)) return null;

  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  // Path segments without the leading empty one; the query and fragment are already separate in URL.
  const segments = url.pathname.split('/').slice(1);
  const pageUrl = `https://${host}${url.pathname}`;
  return classifyPath(host, segments, pageUrl);
}

function classifyPath(host: string, segments: readonly string[], pageUrl: string): DocLink {
  // Type segments match case-insensitively; tokens are case-sensitive and stay raw.
  const first = (segments[0] ?? '').toLowerCase();
  const second = (segments[1] ?? '').toLowerCase();
  const rawSecond = segments[1] ?? '';
  const rawThird = segments[2] ?? '';

  const current = CURRENT_PATHS[first];
  if (current) return toDocument(host, first, rawSecond, current, pageUrl);

  const legacy = LEGACY_PATHS[first];
  if (legacy) return toDocument(host, first, rawSecond, legacy, pageUrl);

  if (first === 'space') {
    const legacyType = LEGACY_PATHS[second];
    if (legacyType) return toDocument(host, `space/${second}`, rawThird, legacyType, pageUrl);
    if (second === 'folder') return notDocument(pageUrl, 'folder');
    return notDocument(pageUrl, 'drive page');
  }

  if (first === 'wiki') {
    // `/wiki/settings/<space id>` and `/wiki/space/<space id>` carry 19-digit space ids that would
    // pass the token pattern, so they must be caught before the node-token branch.
    if (second === 'settings') return notDocument(pageUrl, 'wiki settings');
    if (second === 'space') return notDocument(pageUrl, 'wiki space');
    if (second === '') return notDocument(pageUrl, 'wiki home');
    if (!TOKEN_PATTERN.test(rawSecond)) return notDocument(pageUrl, NO_TOKEN);
    return { kind: 'wiki', url: `https://${host}/wiki/${rawSecond}`, token: rawSecond };
  }

  if ((first === 'drive' && second === 'folder') || first === 'folder') return notDocument(pageUrl, 'folder');
  if (first === 'drive') return notDocument(pageUrl, 'drive page');
  return notDocument(pageUrl, 'page');
}

function toDocument(host: string, prefix: string, token: string, type: DocType, pageUrl: string): DocLink {
  if (!TOKEN_PATTERN.test(token)) return notDocument(pageUrl, NO_TOKEN);
  return { kind: 'document', url: `https://${host}/${prefix}/${token}`, token, type };
}

function notDocument(url: string, what: string): DocLink {
  return { kind: 'not_document', url, what };
}

/** Trim whitespace, `<…>` wrappers and the punctuation a sentence or chat client leaves around a link. */
function stripChatDecoration(input: string): string {
  let text = input.trim();
  if (text.startsWith('<') && text.endsWith('>')) text = text.slice(1, -1).trim();
  let start = 0;
  let end = text.length;
  while (start < end && LEADING_JUNK.includes(text.charAt(start))) start += 1;
  while (end > start && TRAILING_JUNK.includes(text.charAt(end - 1))) end -= 1;
  return text.slice(start, end);
}

/** Parse as http(s), assuming https when the scheme is missing; anything else (javascript:, lark:, mailto:) → null. */
function toUrl(text: string): URL | null {
  if (text === '' || /\s/.test(text)) return null;
  let candidate = text;
  if (candidate.startsWith('//')) {
    candidate = `https:${candidate}`;
  } else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(candidate)) {
    // `javascript:…` has a scheme without `//`; `x.feishu.cn:443/…` looks like one but contains a dot.
    const bareScheme = /^([a-z][a-z0-9+.-]*):/i.exec(candidate);
    if (bareScheme?.[1] && !bareScheme[1].includes('.')) return null;
    candidate = `https://${candidate}`;
  }
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
}

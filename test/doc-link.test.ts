import { describe, expect, it } from 'vitest';
import { isFeishuHost, parseDocLink } from '../src/feishu/doc-link.js';
import type { DocLink, DocRef } from '../src/feishu/types.js';

// Invented 27-char alphanumeric tokens in the documented shape; legacy ones keep their old prefixes.
const DOCX = 'Hk3pQa7ZwLmN2cVbXr9TyUe4SdF';
const DOC = 'Rt5YbNw8KzQm2LpXc7VdHs3JfGa';
const DOCCN = 'doccnZq4RbT8mWk2Xa7LpNc3Veg';
const DOCCN_SHORT = 'doccnK3xWq7RbN2mVt8LpZ'; // 22 chars, as pre-2021 doc links were
const SHTCN = 'shtcnVy2KqL8dXw4PzR7mTb5Nah';
const BASCN = 'bascn4SxXm9NkYXAA1lgEDaKnyc';
const WIKCN = 'wikcnQp7LzR2vXk9WmT4bNd6Ysa';
const WIKI = 'Mv2XkQ9bTz4RpLw7NcHd5YsJeAf';
const BMNCN = 'bmncn6bxJvFV3VWGtshg2BkQe7c';
const BOXCN = 'boxcnLf8Wq3ZpT6mRx2NvKd9Hue';
const FLDCN = 'fldcnwElAqI8rlNwxURCOhs68ch';
const SLIDES = 'Pq8WnZ3cLk6TbVx2RmYd9HsFgJe';
const SPACE_ID = '7467382510423506963';

const HOST = 'example.feishu.cn';

function doc(type: DocRef['type'], token: string, url: string): DocLink {
  return { kind: 'document', type, token, url };
}
function wiki(token: string, url: string): DocLink {
  return { kind: 'wiki', token, url };
}
function notDoc(what: string, url: string): DocLink {
  return { kind: 'not_document', what, url };
}
const NO_TOKEN = 'link without a document token';

describe('parseDocLink', () => {
  it.each<[string, string, DocLink]>([
    // Every current path form on a tenant subdomain.
    ['docx', `https://${HOST}/docx/${DOCX}`, doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`)],
    ['docs (old doc)', `https://${HOST}/docs/${DOCCN}`, doc('doc', DOCCN, `https://${HOST}/docs/${DOCCN}`)],
    ['doc (old doc)', `https://${HOST}/doc/${DOC}`, doc('doc', DOC, `https://${HOST}/doc/${DOC}`)],
    [
      'sheets with ?sheet=',
      `https://${HOST}/sheets/${SHTCN}?sheet=0b8c1d`,
      doc('sheet', SHTCN, `https://${HOST}/sheets/${SHTCN}`),
    ],
    [
      'base with table and view',
      `https://${HOST}/base/${BASCN}?table=tblxj6alpv&view=vewgWRjztC`,
      doc('bitable', BASCN, `https://${HOST}/base/${BASCN}`),
    ],
    [
      'mindnotes',
      `https://${HOST}/mindnotes/${BMNCN}`,
      doc('mindnote', BMNCN, `https://${HOST}/mindnotes/${BMNCN}`),
    ],
    ['file', `https://${HOST}/file/${BOXCN}`, doc('file', BOXCN, `https://${HOST}/file/${BOXCN}`)],
    ['slides', `https://${HOST}/slides/${SLIDES}`, doc('slides', SLIDES, `https://${HOST}/slides/${SLIDES}`)],
    ['wiki node', `https://${HOST}/wiki/${WIKI}`, wiki(WIKI, `https://${HOST}/wiki/${WIKI}`)],
    [
      'legacy wikcn node',
      `https://${HOST}/wiki/${WIKCN}#part-Ab12Cd`,
      wiki(WIKCN, `https://${HOST}/wiki/${WIKCN}`),
    ],

    // Hosts: bare domains, multi-level subdomains, Lark and Lark Office, uppercase, trailing dot.
    ['bare feishu.cn', `https://feishu.cn/docx/${DOCX}`, doc('docx', DOCX, `https://feishu.cn/docx/${DOCX}`)],
    [
      'multi-level feishu.cn',
      `https://a.b.feishu.cn/docx/${DOCX}`,
      doc('docx', DOCX, `https://a.b.feishu.cn/docx/${DOCX}`),
    ],
    [
      'Lark Singapore',
      `https://x.sg.larksuite.com/sheets/${SHTCN}`,
      doc('sheet', SHTCN, `https://x.sg.larksuite.com/sheets/${SHTCN}`),
    ],
    [
      'bare larksuite.com',
      `https://larksuite.com/wiki/${WIKI}`,
      wiki(WIKI, `https://larksuite.com/wiki/${WIKI}`),
    ],
    [
      'larkoffice.com',
      `https://bytedance.larkoffice.com/docx/${DOCX}`,
      doc('docx', DOCX, `https://bytedance.larkoffice.com/docx/${DOCX}`),
    ],
    [
      'uppercase host over http',
      `http://Example.FEISHU.CN/docx/${DOCX}`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    [
      'fully qualified host',
      `https://${HOST}./docx/${DOCX}`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    ['missing scheme', `${HOST}/docx/${DOCX}`, doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`)],
    ['protocol-relative', `//${HOST}/docx/${DOCX}`, doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`)],
    [
      'missing scheme with port',
      `${HOST}:443/docx/${DOCX}`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    [
      'uppercase type segment',
      `https://${HOST}/DOCX/${DOCX}`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],

    // What copying a link or a chat client adds around it.
    [
      'copy-link query',
      `https://${HOST}/docx/${DOCX}?from=from_copylink`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    ['stray trailing #', `https://${HOST}/docx/${DOCX}#`, doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`)],
    [
      'share fragment',
      `https://${HOST}/docx/${DOCX}#share-HcJpdVjC8okFcixUKfZc1NOYnSd`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    ['trailing slash', `https://${HOST}/docx/${DOCX}/`, doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`)],
    [
      'extra segment after token',
      `https://${HOST}/sheets/${SHTCN}/edit`,
      doc('sheet', SHTCN, `https://${HOST}/sheets/${SHTCN}`),
    ],
    [
      'angle brackets',
      `  <https://${HOST}/docx/${DOCX}>\n`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    ['closing paren', `https://${HOST}/docx/${DOCX})`, doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`)],
    [
      'ASCII comma and full stop',
      `https://${HOST}/docx/${DOCX},.`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    ['exclamation mark', `https://${HOST}/docx/${DOCX}!`, doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`)],
    ['double quotes', `"https://${HOST}/docx/${DOCX}"`, doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`)],
    ['single quotes', `'https://${HOST}/docx/${DOCX}'`, doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`)],
    [
      'Chinese full stop',
      `https://${HOST}/docx/${DOCX}。`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    ['Chinese comma', `https://${HOST}/wiki/${WIKI}，`, wiki(WIKI, `https://${HOST}/wiki/${WIKI}`)],
    [
      'Chinese semicolon',
      `https://${HOST}/docx/${DOCX}；`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    [
      'corner brackets',
      `「https://${HOST}/docx/${DOCX}」`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    [
      'lenticular brackets',
      `【https://${HOST}/docx/${DOCX}】`,
      doc('docx', DOCX, `https://${HOST}/docx/${DOCX}`),
    ],
    [
      'copied query, stray # and full stop together',
      `https://${HOST}/base/${BASCN}?from=from_copylink#。`,
      doc('bitable', BASCN, `https://${HOST}/base/${BASCN}`),
    ],

    // Pre-2021 `/space/<type>/` and singular forms still found in old chats and READMEs.
    [
      'legacy /space/doc/',
      `https://${HOST}/space/doc/${DOCCN_SHORT}#`,
      doc('doc', DOCCN_SHORT, `https://${HOST}/space/doc/${DOCCN_SHORT}`),
    ],
    [
      'legacy /space/sheet/ with anchor',
      `https://${HOST}/space/sheet/${SHTCN}#295957`,
      doc('sheet', SHTCN, `https://${HOST}/space/sheet/${SHTCN}`),
    ],
    [
      'legacy /space/bitable/',
      `https://${HOST}/space/bitable/${BASCN}?amp=&table=tblxj6alpv&view=vewgWRjztC`,
      doc('bitable', BASCN, `https://${HOST}/space/bitable/${BASCN}`),
    ],
    [
      'legacy /space/mindnote/',
      `https://${HOST}/space/mindnote/${BMNCN}`,
      doc('mindnote', BMNCN, `https://${HOST}/space/mindnote/${BMNCN}`),
    ],
    [
      'legacy /space/file/',
      `https://www.feishu.cn/space/file/${BOXCN}`,
      doc('file', BOXCN, `https://www.feishu.cn/space/file/${BOXCN}`),
    ],
    [
      'legacy singular /sheet/',
      `https://${HOST}/sheet/${SHTCN}`,
      doc('sheet', SHTCN, `https://${HOST}/sheet/${SHTCN}`),
    ],

    // Feishu links that are not documents: told apart so the card can say what the link is.
    [
      'drive folder',
      `https://${HOST}/drive/folder/${FLDCN}?from=from_copylink`,
      notDoc('folder', `https://${HOST}/drive/folder/${FLDCN}`),
    ],
    [
      'legacy folder',
      `https://${HOST}/space/folder/${FLDCN}`,
      notDoc('folder', `https://${HOST}/space/folder/${FLDCN}`),
    ],
    [
      'wiki settings',
      `https://${HOST}/wiki/settings/${SPACE_ID}`,
      notDoc('wiki settings', `https://${HOST}/wiki/settings/${SPACE_ID}`),
    ],
    [
      'wiki space home (numeric id passes the token pattern)',
      `https://${HOST}/wiki/space/${SPACE_ID}?ccm_open_type=lark_wiki_spaceLink`,
      notDoc('wiki space', `https://${HOST}/wiki/space/${SPACE_ID}`),
    ],
    ['wiki without token', `https://${HOST}/wiki/`, notDoc('wiki home', `https://${HOST}/wiki/`)],
    ['drive home', `https://${HOST}/drive/home/`, notDoc('drive page', `https://${HOST}/drive/home/`)],
    ['drive me', `https://${HOST}/drive/me/`, notDoc('drive page', `https://${HOST}/drive/me/`)],
    ['drive shared', `https://${HOST}/drive/shared/`, notDoc('drive page', `https://${HOST}/drive/shared/`)],
    ['bare host', `https://${HOST}`, notDoc('page', `https://${HOST}/`)],
    [
      'developer docs page',
      'https://open.feishu.cn/document/server-docs/docs/drive-v1/file-statistics/get',
      notDoc('page', 'https://open.feishu.cn/document/server-docs/docs/drive-v1/file-statistics/get'),
    ],
    [
      'type under another prefix',
      `https://${HOST}/x/docx/${DOCX}`,
      notDoc('page', `https://${HOST}/x/docx/${DOCX}`),
    ],
    [
      'type as a name prefix',
      `https://${HOST}/docxfoo/${DOCX}`,
      notDoc('page', `https://${HOST}/docxfoo/${DOCX}`),
    ],

    // Document paths whose token is missing or malformed: the user pasted an incomplete link.
    ['empty token', `https://${HOST}/docx/`, notDoc(NO_TOKEN, `https://${HOST}/docx/`)],
    ['no token segment', `https://${HOST}/sheets`, notDoc(NO_TOKEN, `https://${HOST}/sheets`)],
    ['truncated token', `https://${HOST}/docx/abc`, notDoc(NO_TOKEN, `https://${HOST}/docx/abc`)],
    [
      'token with a dash',
      `https://${HOST}/docx/${DOCX}-x`,
      notDoc(NO_TOKEN, `https://${HOST}/docx/${DOCX}-x`),
    ],
    [
      'token too long',
      `https://${HOST}/file/${'a'.repeat(65)}`,
      notDoc(NO_TOKEN, `https://${HOST}/file/${'a'.repeat(65)}`),
    ],
    ['truncated wiki token', `https://${HOST}/wiki/abc`, notDoc(NO_TOKEN, `https://${HOST}/wiki/abc`)],
  ])('%s: %s', (_name, input, expected) => {
    expect(parseDocLink(input)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['empty string', ''],
    ['only whitespace', '   \n'],
    ['plain words', 'stats please'],
    ['a single word', 'stats'],
    ['another site', 'https://github.com/larksuite/node-sdk'],
    ['lookalike prefix', `https://evilfeishu.cn/docx/${DOCX}`],
    ['feishu.cn as a subdomain of another site', `https://feishu.cn.evil.com/docx/${DOCX}`],
    ['lookalike lark', `https://notlarksuite.com/docx/${DOCX}`],
    ['Feishu host as userinfo', `https://${HOST}@evil.com/docx/${DOCX}`],
    ['IPv4 address', `https://127.0.0.1/docx/${DOCX}`],
    ['IPv6 address', `https://[::1]/docx/${DOCX}`],
    ['javascript: scheme', `javascript:alert(1)//${HOST}/docx/${DOCX}`],
    ['javascript:// scheme', `javascript://${HOST}/docx/${DOCX}`],
    ['ftp scheme', `ftp://${HOST}/docx/${DOCX}`],
    ['Lark app link', 'lark://client/chat/open'],
    ['mailto', 'mailto:someone@feishu.cn'],
    ['garbage', '%%%://???'],
  ])('returns null for %s', (_name, input) => {
    expect(parseDocLink(input)).toBeNull();
  });

  it('keeps token case: two tokens that differ only in case are different documents', () => {
    const lower = parseDocLink(`https://${HOST}/docx/${DOCX.toLowerCase()}`);
    const original = parseDocLink(`https://${HOST}/docx/${DOCX}`);
    expect(lower).toMatchObject({ kind: 'document', token: DOCX.toLowerCase() });
    expect(original).toMatchObject({ kind: 'document', token: DOCX });
  });
});

describe('isFeishuHost', () => {
  it.each<[string, boolean]>([
    ['feishu.cn', true],
    ['larksuite.com', true],
    ['larkoffice.com', true],
    ['example.feishu.cn', true],
    ['a.b.feishu.cn', true],
    ['x.sg.larksuite.com', true],
    ['bytedance.my.larkoffice.com', true],
    ['EXAMPLE.Feishu.CN', true],
    ['example.feishu.cn.', true],
    ['evilfeishu.cn', false],
    ['feishu.cn.evil.com', false],
    ['notlarksuite.com', false],
    ['larkoffice.com.cn', false],
    ['feishu.com', false],
    ['.feishu.cn', false],
    ['a..feishu.cn', false],
    ['-bad.feishu.cn', false],
    ['127.0.0.1', false],
    ['', false],
  ])('%s → %s', (hostname, accepted) => {
    expect(isFeishuHost(hostname)).toBe(accepted);
  });
});

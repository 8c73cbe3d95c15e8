import { describe, expect, it } from 'vitest';
import { extractMessage, findLinks } from '../src/bot/message.js';
import type { MessageMention, MessageReceiveEvent } from '../src/feishu/events.js';

type Message = MessageReceiveEvent['message'];

const DOCX = 'https://sample.feishu.cn/docx/UXEAd6cRUoj5pexJZr0cdwaFnpd';
const SHEET = 'https://sample.feishu.cn/sheets/MRLOWBf6J47ZUjKEQ6ccXbJ5nNd';
const WIKI = 'https://sample.feishu.cn/wiki/Lsmpw5hZXiBbL6kX6DccvHx2nkd';

// Shapes follow the im.message.receive_v1 example:
// https://open.feishu.cn/document/server-docs/im-v1/message/events/receive
const BOT_MENTION: MessageMention = {
  key: '@_user_1',
  id: { open_id: 'ou_84aad35d084aa403a838cf73ee18467', union_id: 'on_e59bb7a5e1e9d4b9f1f2a8e6f5a7d3c1' },
  name: 'Stats Bot',
  tenant_key: '736588c9260f175e',
};
const ALL_MENTION: MessageMention = {
  key: '@_all',
  id: { open_id: '', union_id: '', user_id: '' },
  name: '所有人',
};

function makeMessage(overrides: Partial<Message> = {}): Message {
  return {
    message_id: 'om_dc13264520392913993dd051dba21dcf',
    create_time: '1609073151345',
    chat_id: 'oc_5ad11d72b830411d72b836c20',
    chat_type: 'group',
    message_type: 'text',
    content: JSON.stringify({ text: 'hello' }),
    ...overrides,
  };
}

function textMessage(text: string, mentions?: MessageMention[]): Message {
  return makeMessage({ content: JSON.stringify({ text }), ...(mentions ? { mentions } : {}) });
}

function postMessage(content: unknown, mentions?: MessageMention[]): Message {
  return makeMessage({
    message_type: 'post',
    content: JSON.stringify(content),
    ...(mentions ? { mentions } : {}),
  });
}

describe('extractMessage: text messages', () => {
  it('reads the command text and the link of a plain text message', () => {
    expect(extractMessage(textMessage(`stats ${DOCX}`))).toEqual({
      text: `stats ${DOCX}`,
      links: [DOCX],
      mentions: [],
    });
  });

  it('removes the bot mention placeholder but keeps the mention list for the caller', () => {
    const extracted = extractMessage(textMessage(`@_user_1 stats ${DOCX}`, [BOT_MENTION]));
    expect(extracted?.text).toBe(`stats ${DOCX}`);
    expect(extracted?.mentions).toEqual([BOT_MENTION]);
  });

  it('removes @_all and every @_user_N key, without eating the digits of a longer key', () => {
    const second: MessageMention = { ...BOT_MENTION, key: '@_user_10', name: 'Alice' };
    const extracted = extractMessage(textMessage('@_all @_user_10 stats @_user_1', [ALL_MENTION, second]));
    expect(extracted?.text).toBe('stats');
  });

  it('leaves e-mail addresses and a literal @ in ordinary text alone', () => {
    const extracted = extractMessage(
      textMessage(`@_user_1 stats ${DOCX} cc alice@example.com @ops`, [BOT_MENTION]),
    );
    expect(extracted?.text).toBe(`stats ${DOCX} cc alice@example.com @ops`);
    expect(extracted?.links).toEqual([DOCX]);
  });

  it('collapses newlines and runs of spaces into single spaces', () => {
    expect(extractMessage(textMessage(`  stats\n\n  \t${DOCX}  `))?.text).toBe(`stats ${DOCX}`);
  });

  it('takes the url, not the label, from a markdown link', () => {
    const extracted = extractMessage(textMessage(`stats [Q3 复盘](${DOCX})`));
    expect(extracted?.links).toEqual([DOCX]);
  });

  it('keeps links in order and drops repeats', () => {
    const extracted = extractMessage(textMessage(`stats ${SHEET} ${DOCX} ${SHEET} [again](${DOCX})`));
    expect(extracted?.links).toEqual([SHEET, DOCX]);
  });
});

describe('extractMessage: post messages', () => {
  // Received post content, as in https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content
  const receivedPost = {
    title: '周报数据',
    content: [
      [
        { tag: 'at', user_id: '@_user_1', user_name: 'Stats Bot', style: [] },
        { tag: 'text', text: ' stats', style: [] },
        { tag: 'a', href: DOCX, text: 'Q3 复盘', style: ['underline'] },
      ],
      [{ tag: 'img', image_key: 'img_7ea74629-9191-4176-998c-2e603c9c5e8g', width: 300, height: 300 }],
      [
        { tag: 'text', text: 'and ', style: [] },
        { tag: 'text', text: SHEET, style: [] },
      ],
    ],
  };

  it('joins text and link labels, collects hrefs, drops at elements and the title', () => {
    expect(extractMessage(postMessage(receivedPost, [BOT_MENTION]))).toEqual({
      text: `stats Q3 复盘 and ${SHEET}`,
      links: [DOCX, SHEET],
      mentions: [BOT_MENTION],
    });
  });

  it('accepts the language-wrapped form and takes the first language present', () => {
    const wrapped = {
      en_us: {
        title: 'Weekly',
        content: [
          [
            { tag: 'text', text: 'stats ' },
            { tag: 'a', href: SHEET, text: 'sheet' },
          ],
        ],
      },
      zh_cn: {
        title: '周报',
        content: [
          [
            { tag: 'text', text: '统计 ' },
            { tag: 'a', href: DOCX, text: '文档' },
          ],
        ],
      },
    };
    expect(extractMessage(postMessage(wrapped))).toMatchObject({ text: '统计 文档', links: [DOCX] });
    expect(extractMessage(postMessage({ en_us: wrapped.en_us }))).toMatchObject({
      text: 'stats sheet',
      links: [SHEET],
    });
  });

  it('ignores hrefs that are not http(s)', () => {
    const post = { title: '', content: [[{ tag: 'a', href: 'mailto:alice@example.com', text: 'mail' }]] };
    expect(extractMessage(postMessage(post))?.links).toEqual([]);
  });

  it('returns null for a post without a content array', () => {
    expect(extractMessage(postMessage({ title: 'only a title' }))).toBeNull();
  });
});

describe('extractMessage: post content_v2', () => {
  // Newer clients add `content_v2` to received posts: the same paragraph arrays, with Markdown kept in `md`
  // elements. Shapes as delivered (larksuite/openclaw-lark#571, larksuite/oapi-sdk-go#213); the receive-content
  // page documents only `content`.
  const mentionAndText = [
    { tag: 'at', user_id: '@_user_1', user_name: 'Stats Bot', style: [] },
    { tag: 'text', text: ' stats ', style: [] },
  ];

  it('reads a post that carries only content_v2', () => {
    const post = {
      title: '',
      content_v2: [[...mentionAndText, { tag: 'a', href: DOCX, text: 'Q3 复盘', style: [] }]],
    };
    expect(extractMessage(postMessage(post, [BOT_MENTION]))).toEqual({
      text: 'stats Q3 复盘',
      links: [DOCX],
      mentions: [BOT_MENTION],
    });
  });

  it('reads content_v2 inside the language wrapper', () => {
    const post = { zh_cn: { title: '', content_v2: [[{ tag: 'md', text: `stats [周报](${DOCX})` }]] } };
    expect(extractMessage(postMessage(post))?.links).toEqual([DOCX]);
  });

  it('prefers content_v2 over content when both are well-formed', () => {
    // The two differ on purpose so the result shows which one was read.
    const post = {
      title: '',
      content: [[...mentionAndText, { tag: 'text', text: '周报', style: [] }]],
      content_v2: [[...mentionAndText.slice(0, 1), { tag: 'md', text: ` stats [周报](${DOCX}) ${SHEET}` }]],
    };
    expect(extractMessage(postMessage(post, [BOT_MENTION]))).toMatchObject({
      text: `stats [周报](${DOCX}) ${SHEET}`,
      links: [DOCX, SHEET],
    });
  });

  it.each([
    ['empty, as real posts with images send it', []],
    ['elements without a paragraph array', [{ tag: 'md', text: `stats ${SHEET}` }]],
    ['paragraphs without elements', [[]]],
    ['not an array', 'stats'],
  ])('falls back to content when content_v2 is %s', (_what, contentV2) => {
    const post = {
      title: '',
      content: [[...mentionAndText, { tag: 'a', href: DOCX, text: '周报', style: [] }]],
      content_v2: contentV2,
    };
    expect(extractMessage(postMessage(post, [BOT_MENTION]))).toMatchObject({
      text: 'stats 周报',
      links: [DOCX],
    });
  });

  it('drops the <at> markup an md element uses for a mention, keeping the words apart', () => {
    const post = {
      title: '',
      content_v2: [
        [{ tag: 'md', text: `<at user_id="ou_84aad35d084aa403a838cf73ee18467">Stats Bot</at>stats ${DOCX}` }],
      ],
    };
    expect(extractMessage(postMessage(post))).toMatchObject({ text: `stats ${DOCX}`, links: [DOCX] });
  });
});

describe('extractMessage: post code blocks', () => {
  // `{tag:"code_block", language?, text}` as in the received post example:
  // https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content
  it('finds a document link pasted inside a code block', () => {
    const post = {
      title: '',
      content: [
        [{ tag: 'text', text: 'stats', style: [] }],
        [{ tag: 'code_block', language: 'GO', text: `url := "${DOCX}"\nfmt.Println(url)` }],
      ],
    };
    expect(extractMessage(postMessage(post))?.links).toEqual([DOCX]);
  });

  it('reads a code block without a language, in content_v2, as text of its own', () => {
    const post = {
      title: '',
      content: [[{ tag: 'text', text: 'stats', style: [] }]],
      content_v2: [
        [
          { tag: 'text', text: 'stats', style: [] },
          { tag: 'code_block', text: `${SHEET}\n` },
        ],
      ],
    };
    expect(extractMessage(postMessage(post))).toMatchObject({ text: `stats ${SHEET}`, links: [SHEET] });
  });
});

describe('extractMessage: messages the bot does not read', () => {
  it.each([
    ['image', { image_key: 'img_7ea74629-9191-4176-998c-2e603c9c5e8g' }],
    ['file', { file_key: 'file_v2_0dcdd7d9-fib0-4432-a519-41d25aca542j', file_name: 'report.pdf' }],
    ['sticker', { file_key: 'v2_0f6a8f6e-5a4c-4f0c-9f2e-0a4f3e1d2c3b' }],
  ])('returns null for a %s message', (messageType, content) => {
    expect(
      extractMessage(makeMessage({ message_type: messageType, content: JSON.stringify(content) })),
    ).toBeNull();
  });

  it.each([
    ['malformed JSON', '{"text":"stats'],
    ['a JSON string', '"stats"'],
    ['a JSON array', '[{"text":"stats"}]'],
    ['a non-string text field', '{"text":42}'],
  ])('returns null for text content that is %s', (_what, content) => {
    expect(extractMessage(makeMessage({ content }))).toBeNull();
  });
});

describe('findLinks', () => {
  it('ends a link at Chinese punctuation typed right after it', () => {
    expect(findLinks(`看下这个${DOCX}。谢谢`)).toEqual([DOCX]);
    expect(findLinks(`两个：${DOCX}，${SHEET}；`)).toEqual([DOCX, SHEET]);
    expect(findLinks(`（${DOCX}）和「${SHEET}」【${WIKI}】`)).toEqual([DOCX, SHEET, WIKI]);
  });

  it('strips trailing ASCII sentence punctuation', () => {
    expect(findLinks(`See ${DOCX}. Or ${SHEET}?! Also ${WIKI}:`)).toEqual([DOCX, SHEET, WIKI]);
  });

  it('drops an unbalanced closing parenthesis but keeps balanced ones inside the url', () => {
    expect(findLinks(`(${DOCX})`)).toEqual([DOCX]);
    expect(findLinks('see (https://en.wikipedia.org/wiki/Lark_(software))')).toEqual([
      'https://en.wikipedia.org/wiki/Lark_(software)',
    ]);
  });

  it('ends a link at angle brackets and quotes', () => {
    expect(findLinks(`<${DOCX}> "${SHEET}" '${WIKI}'`)).toEqual([DOCX, SHEET, WIKI]);
  });

  it('keeps the query of a copied link intact', () => {
    const copied =
      'https://sample.feishu.cn/base/KqS0bXyhAaoPfUs0pDgcnyZKnQd?table=tblEv0pPhQ8X2Bvd&view=vewq3R8qTf';
    expect(findLinks(`stats ${copied}`)).toEqual([copied]);
  });

  it('recognises scheme-less Feishu links and adds https://', () => {
    expect(findLinks('stats sample.feishu.cn/docx/UXEAd6cRUoj5pexJZr0cdwaFnpd')).toEqual([DOCX]);
    expect(findLinks('看 acme.sg.larksuite.com/wiki/Lsmpw5hZXiBbL6kX6DccvHx2nkd。')).toEqual([
      'https://acme.sg.larksuite.com/wiki/Lsmpw5hZXiBbL6kX6DccvHx2nkd',
    ]);
    expect(findLinks('统计x.larkoffice.com/sheets/MRLOWBf6J47ZUjKEQ6ccXbJ5nNd')).toEqual([
      'https://x.larkoffice.com/sheets/MRLOWBf6J47ZUjKEQ6ccXbJ5nNd',
    ]);
  });

  it('does not invent links from other scheme-less hosts, bare hosts or e-mail domains', () => {
    expect(findLinks('example.com/docx/T and we use feishu.cn daily')).toEqual([]);
    expect(findLinks('write to ops@corp.feishu.cn/docx or notfeishu.cn/docx/T')).toEqual([]);
  });

  it('accepts http and any letter case in the scheme, and ignores a bare scheme', () => {
    expect(
      findLinks('http://sample.feishu.cn/docs/doccnAbc HTTPS://Sample.feishu.cn/docx/T https://'),
    ).toEqual(['http://sample.feishu.cn/docs/doccnAbc', 'HTTPS://Sample.feishu.cn/docx/T']);
  });
});

describe('link parsing stays linear in the input length', () => {
  // 100 KB of hostile text must not take seconds: each case was quadratic or worse in some version of the
  // parser (a trailing-punctuation regex, a rejected `https://` rescanned to the end). The budget is ~100x what
  // a linear scan needs, so a slow machine does not trip it while quadratic behaviour (seconds) still does.
  const BUDGET_MS = 500;
  const HOSTILE: Array<[string, string]> = [
    ['colons', ':'.repeat(100_000)],
    ['open brackets', '['.repeat(100_000)],
    ['a link followed by a long run of punctuation', `https://x${':'.repeat(100_000)}x`],
    ['schemes with nothing usable after them', 'https://:'.repeat(11_112)],
    ['unbalanced parentheses', `https://x/${'('.repeat(100_000)}`],
    ['dotted labels before no Feishu host', `。${'a.'.repeat(50_000)}`],
    ['markdown link openers', '[a]('.repeat(25_000)],
    ['unclosed at markup', '<at '.repeat(25_000)],
    ['at markup without a closing tag', '<at>x'.repeat(20_000)],
  ];

  function elapsedMs(run: () => unknown): number {
    const started = performance.now();
    run();
    return performance.now() - started;
  }

  it.each(HOSTILE)('findLinks on %s', (_what, text) => {
    expect(elapsedMs(() => findLinks(text))).toBeLessThan(BUDGET_MS);
  });

  it.each(HOSTILE)(
    'a post with %s in md and code_block elements, in content and in content_v2',
    (_what, text) => {
      const paragraphs = [[{ tag: 'md', text }], [{ tag: 'code_block', language: 'GO', text }]];
      for (const post of [
        { title: '', content: paragraphs },
        { title: '', content: [[]], content_v2: paragraphs },
      ]) {
        expect(elapsedMs(() => extractMessage(postMessage(post, [BOT_MENTION])))).toBeLessThan(BUDGET_MS);
      }
    },
  );
});

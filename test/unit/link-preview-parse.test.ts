import { describe, expect, it } from 'vitest';
import { firstLink } from '../../src/core/link-previews.js';
import { cleanText, decodeHtml, parsePageMeta } from '../../src/server/previews/html-meta.js';

/** What a preview takes from a page (title, description, image; nothing else) and which link of a message it takes. */

describe('parsePageMeta', () => {
  const page = 'https://news.example/a/b.html';

  it('prefers Open Graph, then Twitter cards, then <title> / meta description', () => {
    const html = `<html><head>
      <title>Plain title</title>
      <meta name="description" content="plain description">
      <meta name="twitter:title" content="Twitter title">
      <meta property="og:title" content="OG &amp; title">
      <meta property="og:description" content='OG description'>
      <meta property="og:image" content="/img/cover.png">
      <meta property="og:video" content="https://evil.example/v.mp4">
    </head><body><meta property="og:title" content="from the body, ignored"></body></html>`;
    expect(parsePageMeta(html, page)).toEqual({
      title: 'OG & title',
      description: 'OG description',
      image: 'https://news.example/img/cover.png',
    });
    expect(parsePageMeta('<title>Only &lt;this&gt; &#x4e2d;&#25991;</title>', page)).toEqual({
      title: 'Only <this> 中文',
      description: null,
      image: null,
    });
    expect(
      parsePageMeta('<meta name=twitter:title content=Bare><meta name="twitter:image" content="img.jpg">', page),
    ).toEqual({ title: 'Bare', description: null, image: 'https://news.example/a/img.jpg' });
    expect(parsePageMeta('<META CONTENT="upper" NAME="Description">', page).description).toBe('upper');
  });

  it('keeps only http(s) image URLs and plain, capped text', () => {
    const long = 'x'.repeat(1000);
    const meta = parsePageMeta(
      `<meta property="og:title" content="  a\u202e\u0007  b\n\n c ">
       <meta property="og:description" content="${long}">
       <meta property="og:image" content="javascript:alert(1)">`,
      page,
    );
    expect(meta.title).toBe('a b c');
    expect([...meta.description!].length).toBe(500);
    expect(meta.description!.endsWith('…')).toBe(true);
    expect(meta.image).toBeNull();
    expect(parsePageMeta('<meta property="og:image" content="data:image/png;base64,AAAA">', page).image).toBeNull();
    expect(parsePageMeta('<meta property="og:title" content="   ">', page).title).toBeNull();
    expect(cleanText('中文标题'.repeat(100), 200)!.length).toBe(200);
  });

  it('decodes the charset of the header, else of a <meta charset>, else UTF-8', () => {
    const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]); // 中文 in GBK
    const html = Buffer.concat([Buffer.from('<meta charset="gbk"><title>'), gbk, Buffer.from('</title>')]);
    expect(parsePageMeta(decodeHtml(html, null), page).title).toBe('中文');
    expect(decodeHtml(Buffer.from('<title>é</title>', 'latin1'), 'iso-8859-1')).toBe('<title>é</title>');
    expect(decodeHtml(Buffer.from('<title>中文</title>'), 'no-such-charset')).toBe('<title>中文</title>');
  });
});

describe('firstLink', () => {
  it.each([
    ['see https://example.com/a?b=1.', 'https://example.com/a?b=1'],
    ['(http://example.com/x)', 'http://example.com/x'],
    ['https://en.wikipedia.org/wiki/Foo_(bar) ok', 'https://en.wikipedia.org/wiki/Foo_(bar)'],
    ['看这个https://example.cn/页面，很好', 'https://example.cn/页面'],
    ['“https://example.cn/a”', 'https://example.cn/a'],
    ['first http://a.example/1 then https://b.example/2', 'http://a.example/1'],
    ['HTTPS://EXAMPLE.COM/', 'HTTPS://EXAMPLE.COM/'],
    ['no link here', null],
    ['ftp://example.com/file', null],
    ['http://', null],
    ['javascript:alert(1)//http', null],
  ])('%s → %s', (body, link) => {
    expect(firstLink(body)).toBe(link);
  });
});

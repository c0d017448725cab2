// DeepSeek's official search and file prompts: the texts in src/serve/search/templates.ts are held to
// the model card's own words (a verbatim copy of its "Official Prompts" section in fixtures/), and the
// prompts the server builds are held to those templates filled in as the card describes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FILE_TEMPLATE,
  SEARCH_ANSWER_EN_TEMPLATE,
  SEARCH_ANSWER_ZH_TEMPLATE,
  assemble,
  currentDate,
  filePrompt,
  questionLanguage,
  searchPrompt,
  webpageBlock,
  type SearchResult,
} from '../../src/serve/index.ts';
import { published, pyFormat } from './official-prompts.ts';

test('the templates are the model card’s text, character for character', () => {
  assert.equal(FILE_TEMPLATE, published('file_template'));
  assert.equal(SEARCH_ANSWER_ZH_TEMPLATE, published('search_answer_zh_template'));
  assert.equal(SEARCH_ANSWER_EN_TEMPLATE, published('search_answer_en_template'));
});

test('the language follows the question', () => {
  assert.equal(questionLanguage('北京的人口是多少？'), 'zh');
  assert.equal(questionLanguage('DeepSeek-V3 的上下文长度是多少'), 'zh');
  assert.equal(questionLanguage("What is Beijing's population?"), 'en');
  assert.equal(questionLanguage('How do I write 你好 in pinyin?'), 'en');
  assert.equal(questionLanguage('12 + 7 = ?'), 'en');
});

test('search and file prompts are the published templates filled in', () => {
  const results = '[webpage 1 begin]\nTitle: A\nURL: https://a.example/\nContent: alpha\n[webpage 1 end]';
  const en = searchPrompt({ question: 'What is alpha?', searchResults: results, curDate: '2025-03-24' });
  assert.equal(
    en,
    pyFormat(published('search_answer_en_template'), { search_results: results, cur_date: '2025-03-24', question: 'What is alpha?' }),
  );
  const zh = searchPrompt({ question: '阿尔法是什么？', searchResults: results, curDate: '2025-03-24' });
  assert.equal(
    zh,
    pyFormat(published('search_answer_zh_template'), { search_results: results, cur_date: '2025-03-24', question: '阿尔法是什么？' }),
  );
  assert.equal(
    filePrompt('notes.txt', 'line one\nline two', 'Summarise it.'),
    pyFormat(published('file_template'), { file_name: 'notes.txt', file_content: 'line one\nline two', question: 'Summarise it.' }),
  );
  // Text put in is never filled again: a document holding "{question}" stays as it is.
  assert.equal(filePrompt('a', 'see {question}', 'Q'), '[file name]: a\n[file content begin]\nsee {question}\n[file content end]\nQ');
  assert.match(currentDate(new Date(2025, 0, 5)), /^2025-01-05$/);
});

const chars = (t: string) => t.length; // a "tokenizer" of one token per character, for exact budgets

function result(i: number, content: string): SearchResult {
  return { title: `Doc ${i}`, url: `https://example.com/${i}`, snippet: content.slice(0, 20), content };
}

test('assemble: files inside, results outside, numbered in rank order', () => {
  const results = [result(1, 'first'), result(2, 'second')];
  const out = assemble({
    question: 'Why?',
    results,
    files: [
      { name: 'a.txt', content: 'AAA' },
      { name: 'b.txt', content: 'BBB' },
    ],
    date: '2025-03-24',
    budget: 1e9,
    promptTokens: chars,
    tokens: chars,
  });
  const question = filePrompt('a.txt', 'AAA', filePrompt('b.txt', 'BBB', 'Why?'));
  const blocks = [webpageBlock(1, results[0]!), webpageBlock(2, results[1]!)].join('\n');
  assert.equal(out.text, pyFormat(published('search_answer_en_template'), { search_results: blocks, cur_date: '2025-03-24', question }));
  assert.deepEqual(
    out.used.map((u) => [u.id, u.title]),
    [
      [1, 'Doc 1'],
      [2, 'Doc 2'],
    ],
  );
  assert.deepEqual(out.notices, []);
});

test('assemble: results trimmed to the budget, the most relevant kept', () => {
  const results = [result(1, 'x'.repeat(300)), result(2, 'y'.repeat(300)), result(3, 'z'.repeat(300))];
  const frame = searchPrompt({ question: 'Q', searchResults: '', curDate: 'D' }).length;
  const oneAndAHalf = webpageBlock(1, results[0]!).length + 1 + 200;
  const out = assemble({ question: 'Q', results, files: [], date: 'D', budget: frame + oneAndAHalf, promptTokens: chars, tokens: chars });
  assert.ok(out.text.length <= frame + oneAndAHalf, 'fits the budget');
  assert.deepEqual(
    out.used.map((u) => u.id),
    [1, 2],
  );
  assert.equal(out.used[0]!.content, 'x'.repeat(300), 'the best result is whole');
  assert.ok(out.used[1]!.content!.length < 300 && out.used[1]!.content!.length > 0, 'the next one is cut to the room left');
  assert.ok(!out.text.includes('zzz'), 'the least relevant is left out');
  assert.deepEqual(out.notices, ["1 of 3 search results left out to fit the model's context"]);
});

test('assemble: a template that cannot fit leaves the results out, with a notice', () => {
  const out = assemble({ question: 'Q', results: [result(1, 'a')], files: [], date: 'D', budget: 100, promptTokens: chars, tokens: chars });
  assert.equal(out.text, 'Q');
  assert.deepEqual(out.used, []);
  assert.match(out.notices[0]!, /does not fit/);
});

test('assemble: files longer than the room are cut, the longest the most', () => {
  const files = [
    { name: 'short', content: 's'.repeat(50) },
    { name: 'long', content: 'l'.repeat(5000) },
  ];
  const frame = filePrompt('short', '', filePrompt('long', '', 'Q')).length;
  const out = assemble({ question: 'Q', results: null, files, date: 'D', budget: frame + 1000, promptTokens: chars, tokens: chars });
  assert.ok(out.text.length <= frame + 1000);
  assert.ok(out.text.includes('s'.repeat(50)), 'the short file is whole');
  assert.deepEqual(out.files, [
    { name: 'short', truncated: false },
    { name: 'long', truncated: true },
  ]);
  assert.match(out.notices[0]!, /'long' was cut/);
});

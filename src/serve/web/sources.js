// Search results under an answer, and `[citation:X]` in the answer as numbered links to them (DeepSeek's
// search prompt asks the model to cite that way). Everything a search returns — titles, URLs,
// snippets, notices — goes on the page as text, never as HTML: it comes from documents and web
// pages nobody here wrote.

const WEB = /^https?:\/\//i;
const CITATION = /\[citation:(\d+)\]/g;

/** An http(s) URL, or null (a local document's path is shown, not linked). */
function webUrl(url) {
  return typeof url === 'string' && WEB.test(url) ? url : null;
}

function link(url, text) {
  const a = document.createElement('a');
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = text;
  return a;
}

/** The sources list (and any search notice) for one answer; `prefix` makes its anchors unique. */
export function sourcesView(search, prefix) {
  const box = document.createElement('div');
  box.className = 'sources';
  box.dataset.testid = 'sources';
  for (const notice of search.notices ?? []) {
    const n = document.createElement('div');
    n.className = 'search-notice';
    n.dataset.testid = 'search-notice';
    n.textContent = notice;
    box.append(n);
  }
  const results = search.results ?? [];
  if (results.length > 0) {
    const title = document.createElement('div');
    title.className = 'sources-title';
    title.textContent = `Sources (${results.length})`;
    const list = document.createElement('ol');
    for (const r of results) {
      const item = document.createElement('li');
      item.id = `${prefix}-source-${r.id}`;
      item.dataset.testid = 'source';
      const num = document.createElement('span');
      num.className = 'source-id';
      num.textContent = `${r.id}`;
      const url = webUrl(r.url);
      const name = url ? link(url, r.title || r.url) : document.createElement('span');
      if (!url) name.textContent = r.title || r.url;
      name.classList.add('source-title');
      const where = document.createElement('span');
      where.className = 'source-url';
      where.textContent = r.url;
      const snippet = document.createElement('div');
      snippet.className = 'source-snippet';
      snippet.dataset.testid = 'source-snippet';
      snippet.textContent = r.snippet ?? '';
      item.append(num, name, where, snippet);
      list.append(item);
    }
    box.append(title, list);
  }
  return box;
}

/**
 * Turns `[citation:X]` in the rendered answer into a small numbered link: to the source's page when it
 * has one, else to its entry in the list. Text in code is left alone; unknown numbers stay as written.
 */
export function linkCitations(el, search, prefix) {
  const byId = new Map((search?.results ?? []).map((r) => [r.id, r]));
  if (byId.size === 0) return;
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) {
    const n = walker.currentNode;
    if (n.nodeValue.includes('[citation:') && !n.parentElement.closest('pre, code, a')) nodes.push(n);
  }
  for (const node of nodes) {
    const text = node.nodeValue;
    const parts = [];
    let last = 0;
    for (const m of text.matchAll(CITATION)) {
      const r = byId.get(Number(m[1]));
      if (!r) continue;
      parts.push(document.createTextNode(text.slice(last, m.index)));
      const a = link(webUrl(r.url) ?? `#${prefix}-source-${r.id}`, String(r.id));
      if (!webUrl(r.url)) a.removeAttribute('target');
      a.className = 'citation';
      a.dataset.testid = 'citation';
      a.title = r.title || r.url;
      parts.push(a);
      last = m.index + m[0].length;
    }
    if (parts.length === 0) continue;
    parts.push(document.createTextNode(text.slice(last)));
    node.replaceWith(...parts);
  }
}

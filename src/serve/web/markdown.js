// Markdown → safe HTML for answers: marked renders (GitHub-flavoured, line breaks kept), DOMPurify
// strips anything executable, and code blocks get a language label and a copy button.
import { marked } from '/vendor/marked.js';
import DOMPurify from '/vendor/purify.js';

marked.setOptions({ gfm: true, breaks: true });

/** Renders markdown text into `el`. */
export function renderMarkdown(el, text) {
  el.innerHTML = DOMPurify.sanitize(marked.parse(text));
  for (const pre of el.querySelectorAll('pre')) decorateCode(pre);
}

function decorateCode(pre) {
  const code = pre.querySelector('code');
  const lang = /language-([\w+-]+)/.exec(code?.className ?? '')?.[1] ?? '';
  const bar = document.createElement('div');
  bar.className = 'code-bar';
  const label = document.createElement('span');
  label.textContent = lang || 'code';
  const copy = document.createElement('button');
  copy.type = 'button';
  copy.textContent = 'Copy';
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(code?.textContent ?? pre.textContent);
      copy.textContent = 'Copied';
    } catch {
      copy.textContent = 'Copy failed';
    }
    setTimeout(() => (copy.textContent = 'Copy'), 1500);
  });
  bar.append(label, copy);
  pre.prepend(bar);
}

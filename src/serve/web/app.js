// The web chat: conversations in the sidebar, streamed answers (thinking folded away in its own
// block), markdown rendering, a stop button, and settings — all talking to this server's
// OpenAI-compatible /v1/chat/completions with `stream: true`.
import { renderMarkdown } from './markdown.js';
import * as store from './store.js';

const $ = (sel) => document.querySelector(sel);
const els = {
  messages: $('[data-testid=messages]'),
  empty: $('[data-testid=empty]'),
  form: $('[data-testid=composer]'),
  input: $('[data-testid=input]'),
  send: $('[data-testid=send]'),
  stop: $('[data-testid=stop]'),
  history: $('[data-testid=history]'),
  model: $('[data-testid=model-name]'),
  status: $('[data-testid=status]'),
  settings: $('[data-testid=settings]'),
};

let model = null;
let conversations = store.loadConversations();
let current = conversations.find((c) => c.id === store.loadCurrentId()) ?? null;
let settings = store.loadSettings();
let controller = null;

// ---- the model -------------------------------------------------------------------------------

async function loadModel() {
  try {
    const res = await fetch('/v1/models');
    const body = await res.json();
    model = body.data?.[0]?.id ?? null;
    els.model.textContent = model ?? 'no model';
  } catch {
    els.model.textContent = 'server unreachable';
  }
}

// ---- conversations ---------------------------------------------------------------------------

function persist() {
  conversations.sort((a, b) => b.updated - a.updated);
  store.saveConversations(conversations);
  store.saveCurrentId(current?.id ?? null);
  renderHistory();
}

function renderHistory() {
  els.history.replaceChildren(
    ...conversations.map((c) => {
      const item = document.createElement('div');
      item.className = `conversation${c === current ? ' active' : ''}`;
      item.dataset.testid = 'conversation';
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'open';
      open.textContent = c.title;
      open.title = c.title;
      open.addEventListener('click', () => {
        if (controller) return;
        current = c;
        persist();
        renderConversation();
      });
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'delete';
      del.textContent = '×';
      del.title = 'Delete conversation';
      del.addEventListener('click', () => {
        if (controller && c === current) return;
        conversations = conversations.filter((x) => x !== c);
        if (current === c) current = null;
        persist();
        renderConversation();
      });
      item.append(open, del);
      return item;
    }),
  );
}

function renderConversation() {
  els.messages.querySelectorAll('.message').forEach((m) => m.remove());
  els.empty.hidden = (current?.messages.length ?? 0) > 0;
  for (const m of current?.messages ?? []) {
    const view = addMessage(m.role);
    if (m.role === 'user') view.setUser(m.content);
    else view.update(m.reasoning ?? '', m.content, { done: true, stopped: m.stopped, seconds: m.thinkingSeconds });
  }
  scrollDown(true);
}

// ---- one message on screen -------------------------------------------------------------------

function addMessage(role) {
  els.empty.hidden = true;
  const el = document.createElement('article');
  el.className = `message ${role}`;
  el.dataset.testid = `message-${role}`;
  const body = document.createElement('div');
  body.className = 'body';
  el.append(body);
  els.messages.append(el);
  let thinking = null;
  let content = null;
  return {
    el,
    setUser(text) {
      body.textContent = text;
    },
    /** Shows the reasoning and the answer so far. */
    update(reasoning, answer, { done = false, stopped = false, seconds = null } = {}) {
      if (reasoning && !thinking) {
        thinking = document.createElement('details');
        thinking.className = 'thinking';
        thinking.dataset.testid = 'thinking';
        thinking.open = !done;
        thinking.innerHTML = '<summary></summary><div class="thinking-body"></div>';
        body.prepend(thinking);
      }
      if (thinking) {
        const still = !done && !answer;
        thinking.querySelector('summary').textContent = still ? 'Thinking…' : seconds ? `Thought for ${seconds} s` : 'Thought';
        thinking.querySelector('.thinking-body').textContent = reasoning;
        if (!still && thinking.dataset.folded !== '1') {
          thinking.open = false; // fold the thinking once the answer starts
          thinking.dataset.folded = '1';
        }
      }
      if (!content) {
        content = document.createElement('div');
        content.className = 'content markdown';
        content.dataset.testid = 'answer';
        body.append(content);
      }
      renderMarkdown(content, answer);
      el.classList.toggle('streaming', !done);
      el.classList.toggle('stopped', stopped);
      if (stopped && !el.querySelector('.stopped-note')) {
        const note = document.createElement('div');
        note.className = 'stopped-note';
        note.dataset.testid = 'stopped';
        note.textContent = 'Stopped';
        body.append(note);
      }
    },
    error(message) {
      const e = document.createElement('div');
      e.className = 'error';
      e.dataset.testid = 'error';
      e.textContent = message;
      body.append(e);
    },
  };
}

function scrollDown(force = false) {
  const m = els.messages;
  if (force || m.scrollHeight - m.scrollTop - m.clientHeight < 120) m.scrollTop = m.scrollHeight;
}

// ---- streaming a reply -----------------------------------------------------------------------

/** Yields the JSON payloads of a server-sent-events response (`data: …` lines; comments skipped). */
async function* events(res) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let at;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') return;
        yield JSON.parse(data);
      }
    }
  }
}

function setBusy(busy) {
  els.send.hidden = busy;
  els.stop.hidden = !busy;
  els.status.textContent = busy ? 'generating…' : '';
}

async function send(text) {
  if (!current) {
    current = store.newConversation();
    conversations.push(current);
  }
  if (current.messages.length === 0) current.title = text.slice(0, 60);
  current.messages.push({ role: 'user', content: text });
  current.updated = Date.now();
  persist();
  addMessage('user').setUser(text);
  const view = addMessage('assistant');
  const reply = { role: 'assistant', content: '', reasoning: '' };
  scrollDown(true);

  const messages = [];
  if (settings.system.trim()) messages.push({ role: 'system', content: settings.system });
  // Earlier answers go back without their reasoning (as DeepSeek-R1 expects).
  for (const m of current.messages) messages.push({ role: m.role, content: m.content });

  controller = new AbortController();
  setBusy(true);
  const started = performance.now();
  let thinkingSeconds = null;
  let frame = 0;
  const paint = (done = false, stopped = false) => {
    cancelAnimationFrame(frame);
    const draw = () => view.update(reply.reasoning, reply.content, { done, stopped, seconds: thinkingSeconds });
    if (done) draw();
    else frame = requestAnimationFrame(() => (draw(), scrollDown()));
  };
  let stopped = false;
  try {
    const res = await fetch('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages, stream: true, temperature: settings.temperature, max_tokens: settings.maxTokens }),
      signal: controller.signal,
    });
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    }
    for await (const chunk of events(res)) {
      if (chunk.error) throw new Error(chunk.error.message);
      const delta = chunk.choices?.[0]?.delta ?? {};
      if (delta.reasoning_content) reply.reasoning += delta.reasoning_content;
      if (delta.content) {
        if (reply.reasoning && thinkingSeconds === null) thinkingSeconds = Math.max(1, Math.round((performance.now() - started) / 1000));
        reply.content += delta.content;
      }
      if (delta.reasoning_content || delta.content) paint();
    }
  } catch (e) {
    if (e.name === 'AbortError') stopped = true;
    else view.error(e.message);
  } finally {
    controller = null;
    setBusy(false);
  }
  paint(true, stopped);
  Object.assign(reply, { stopped, thinkingSeconds });
  current.messages.push(reply);
  current.updated = Date.now();
  persist();
}

// ---- settings --------------------------------------------------------------------------------

function openSettings() {
  const f = els.settings.querySelector('form');
  f.system.value = settings.system;
  f.temperature.value = String(settings.temperature);
  f.temperatureValue.value = String(settings.temperature);
  f.maxTokens.value = String(settings.maxTokens);
  els.settings.showModal();
}

function saveSettingsFromForm() {
  const f = els.settings.querySelector('form');
  const maxTokens = Math.round(Number(f.maxTokens.value));
  settings = {
    system: f.system.value,
    temperature: Number(f.temperature.value),
    maxTokens: Number.isFinite(maxTokens) && maxTokens >= 1 ? maxTokens : store.DEFAULT_SETTINGS.maxTokens,
  };
  store.saveSettings(settings);
}

// ---- wiring ----------------------------------------------------------------------------------

els.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = els.input.value.trim();
  if (!text || controller) return;
  els.input.value = '';
  autosize();
  void send(text);
});
els.input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    els.form.requestSubmit();
  }
});
const autosize = () => {
  els.input.style.height = 'auto';
  els.input.style.height = `${Math.min(els.input.scrollHeight, 240)}px`;
};
els.input.addEventListener('input', autosize);
els.stop.addEventListener('click', () => controller?.abort());
$('[data-testid=new-chat]').addEventListener('click', () => {
  if (controller) return;
  current = null;
  persist();
  renderConversation();
  els.input.focus();
});
$('[data-testid=open-settings]').addEventListener('click', openSettings);
els.settings.addEventListener('close', saveSettingsFromForm);
els.settings.querySelector('[name=temperature]').addEventListener('input', (e) => {
  els.settings.querySelector('[name=temperatureValue]').value = e.target.value;
});
$('[data-testid=clear-history]').addEventListener('click', () => {
  if (controller || !confirm('Delete all conversations?')) return;
  conversations = [];
  current = null;
  persist();
  renderConversation();
});

renderHistory();
renderConversation();
await loadModel();
document.body.dataset.ready = '1';

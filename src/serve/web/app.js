// The web chat: conversations in the sidebar, streamed answers (thinking folded away in its own
// block), markdown rendering, a stop button, a model picker when the server serves several (each
// conversation keeps its model), settings, and — when the server has a search backend — a search
// toggle, with the sources shown under the answer and its [citation:X] marks linked to them; text
// files can be attached to a message. All of it talks to this server's OpenAI-compatible
// /v1/chat/completions with `stream: true` (and its `search` and `files` extensions).
import { renderMarkdown } from './markdown.js';
import { linkCitations, sourcesView } from './sources.js';
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
  picker: $('[data-testid=model-picker]'),
  status: $('[data-testid=status]'),
  settings: $('[data-testid=settings]'),
  searchToggle: $('[data-testid=search-toggle]'),
  attach: $('[data-testid=attach]'),
  fileInput: $('[data-testid=file-input]'),
  attachments: $('[data-testid=attachments]'),
};

/** Largest file attached, in bytes (the whole request must stay under the server's body limit). */
const MAX_FILE_BYTES = 1024 * 1024;

/** The served models' cards (/v1/models), the default first. */
let models = [];
/** The model the current conversation talks to (or a new one will). */
let model = null;
/** That model's limits, from its card: context length and largest max_tokens. */
let limits = { context: Infinity, maxTokens: Infinity };
let conversations = store.loadConversations();
let current = conversations.find((c) => c.id === store.loadCurrentId()) ?? null;
let settings = store.loadSettings();
let controller = null;
/** The server's search ({ backend, default }, from /health), or null when it has none. */
let serverSearch = null;
/** Files attached to the next message: [{ name, content }]. */
let attachments = [];
/** Numbers each message on screen, so its sources' anchors are unique. */
let messageSeq = 0;

// ---- the model -------------------------------------------------------------------------------

/** Request headers: JSON, and the API key when one is set (servers started with --api-key). */
function headers() {
  const h = { 'content-type': 'application/json' };
  if (settings.apiKey) h.authorization = `Bearer ${settings.apiKey}`;
  return h;
}

/** Whether the next message searches: the user's choice, else the server's default. */
function searchOn() {
  return serverSearch !== null && (settings.search ?? serverSearch.default);
}

function showSearchToggle() {
  els.searchToggle.hidden = serverSearch === null;
  els.searchToggle.setAttribute('aria-pressed', String(searchOn()));
}

async function loadSearch() {
  try {
    const res = await fetch('/health');
    serverSearch = res.ok ? ((await res.json()).search ?? null) : null;
  } catch {
    serverSearch = null;
  }
  showSearchToggle();
}

async function loadModels() {
  try {
    const res = await fetch('/v1/models', { headers: headers() });
    if (res.status === 401) {
      models = [];
      showModel();
      els.model.textContent = 'API key needed: enter it in ⚙ Settings';
      return;
    }
    const body = await res.json();
    models = Array.isArray(body.data) ? body.data : [];
    els.picker.replaceChildren(
      ...models.map((m) => {
        const o = document.createElement('option');
        o.value = o.textContent = m.id;
        return o;
      }),
    );
    els.picker.hidden = models.length < 2;
    els.model.hidden = models.length >= 2;
    showModel();
  } catch {
    els.model.textContent = 'server unreachable';
  }
}

/**
 * Shows the current conversation's model: the one it was held with, else (a new chat, or a model no
 * longer served) the one last picked, else the server's default.
 */
function showModel() {
  const served = (id) => models.find((m) => m.id === id);
  const card = served(current?.model) ?? served(store.loadLastModel()) ?? models[0];
  model = card?.id ?? null;
  limits = { context: card?.max_model_len ?? Infinity, maxTokens: card?.max_output_tokens ?? Infinity };
  els.model.textContent = model ?? 'no model';
  if (model) els.picker.value = model;
}

/** The largest max_tokens worth asking for: the server's cap, and never more than its context. */
function maxTokensCap() {
  return Math.min(limits.maxTokens, limits.context);
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
        showModel();
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
        showModel();
        renderConversation();
      });
      item.append(open, del);
      return item;
    }),
  );
}

function renderConversation() {
  els.messages.querySelectorAll('.message, .context-notice').forEach((m) => m.remove());
  els.empty.hidden = (current?.messages.length ?? 0) > 0;
  for (const m of current?.messages ?? []) {
    if (m.dropped) els.messages.append(contextNotice(m.dropped));
    const view = addMessage(m.role);
    if (m.role === 'user') view.setUser(m.content, m.files);
    else {
      if (m.search) view.sources(m.search);
      view.update(m.reasoning ?? '', m.content, { done: true, stopped: m.stopped, seconds: m.thinkingSeconds });
      if (m.speculation) view.speculation(m.speculation);
      if (m.error) view.error(m.error);
    }
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
  let sources = null;
  let search = null;
  const prefix = `m${++messageSeq}`;
  return {
    el,
    setUser(text, files = []) {
      body.textContent = text;
      if (files.length > 0) {
        const list = document.createElement('div');
        list.className = 'files';
        list.dataset.testid = 'message-files';
        for (const name of files) list.append(fileChip(name));
        el.insertBefore(list, body);
      }
    },
    /** Shows (or replaces) the search results and notices under the answer. */
    sources(s) {
      search = s;
      const view = sourcesView(s, prefix);
      if (sources) sources.replaceWith(view);
      else body.append(view);
      sources = view;
      if (content) linkCitations(content, search, prefix);
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
        if (sources) sources.before(content);
        else body.append(content);
      }
      renderMarkdown(content, answer);
      linkCitations(content, search, prefix);
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
    /** Under a reply: how many of the server's draft tokens (speculative decoding) were accepted. */
    speculation({ accepted, rejected }) {
      const s = document.createElement('div');
      s.className = 'speculation';
      s.dataset.testid = 'speculation';
      const drafted = accepted + rejected;
      s.textContent = `speculative decoding: ${accepted} of ${drafted} draft tokens accepted${drafted > 0 ? ` (${Math.round((100 * accepted) / drafted)}%)` : ''}`;
      body.append(s);
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

/** A file's name in a small box (text only). */
function fileChip(name) {
  const chip = document.createElement('span');
  chip.className = 'file-chip';
  chip.dataset.testid = 'file-chip';
  chip.textContent = `📄 ${name}`;
  return chip;
}

function renderAttachments() {
  els.attachments.hidden = attachments.length === 0;
  els.attachments.replaceChildren(
    ...attachments.map((f, i) => {
      const chip = fileChip(f.name);
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '×';
      remove.title = `Remove ${f.name}`;
      remove.dataset.testid = 'remove-file';
      remove.addEventListener('click', () => {
        attachments.splice(i, 1);
        renderAttachments();
      });
      chip.append(remove);
      return chip;
    }),
  );
}

/** Reads picked files as text (UTF-8); binary or oversized ones are refused with a note. */
async function attachFiles(list) {
  const refused = [];
  for (const f of list) {
    if (f.size > MAX_FILE_BYTES) {
      refused.push(`${f.name} is larger than 1 MB`);
      continue;
    }
    const text = await f.text();
    if (text.includes('\u0000')) refused.push(`${f.name} is not a text file`);
    else attachments.push({ name: f.name, content: text });
  }
  renderAttachments();
  els.status.textContent = refused.length > 0 ? `Not attached: ${refused.join('; ')}` : '';
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

/** Shows, above a reply, that the oldest messages were left out to fit the context. */
function contextNotice(dropped) {
  const n = document.createElement('div');
  n.className = 'context-notice';
  n.dataset.testid = 'context-notice';
  n.textContent = `The conversation is longer than the model's context (${limits.context} tokens): the oldest ${dropped} message${dropped === 1 ? ' was' : 's were'} left out of this reply. Start a new chat to begin afresh.`;
  return n;
}

/** Prompt tokens of `messages`, as the server renders them (null when it cannot say). */
async function countTokens(messages) {
  try {
    const res = await fetch('/tokenize', { method: 'POST', headers: headers(), body: JSON.stringify({ model, messages }) });
    return res.ok ? (await res.json()).count : null;
  } catch {
    return null;
  }
}

/**
 * The messages to send: the system prompt, then the conversation without failed exchanges, minus
 * its oldest exchanges while the prompt would leave less than a quarter of the context (at most
 * max tokens) for the reply. Returns them with how many messages were dropped.
 */
async function fitContext(system, history, maxTokens) {
  const turns = [];
  for (let i = 0; i < history.length; i++) {
    const m = history[i];
    if (m.failed) continue; // a failed turn (and its question) is shown, never sent again
    if (m.role === 'user' && history[i + 1]?.failed) continue;
    turns.push({ role: m.role, content: m.content });
  }
  const room = Math.max(1, Math.min(maxTokens, Math.floor(limits.context / 4)));
  let dropped = 0;
  for (;;) {
    const messages = [...system, ...turns.slice(dropped)];
    if (!Number.isFinite(limits.context) || turns.length - dropped <= 1) return { messages, dropped };
    const count = await countTokens(messages);
    if (count === null || count + room <= limits.context) return { messages, dropped };
    dropped += 2; // the oldest question and its answer
  }
}

function setBusy(busy) {
  els.picker.disabled = busy;
  els.send.hidden = busy;
  els.stop.hidden = !busy;
  els.status.textContent = busy ? 'generating…' : '';
}

async function send(text) {
  if (!current) {
    current = store.newConversation();
    conversations.push(current);
  }
  current.model = model;
  if (current.messages.length === 0) current.title = text.slice(0, 60);
  const files = attachments;
  attachments = [];
  renderAttachments();
  const asked = { role: 'user', content: text };
  // Only the names are kept: the files' text goes with this message alone.
  if (files.length > 0) asked.files = files.map((f) => f.name);
  current.messages.push(asked);
  current.updated = Date.now();
  persist();
  addMessage('user').setUser(text, asked.files);
  const view = addMessage('assistant');
  const reply = { role: 'assistant', content: '', reasoning: '' };
  scrollDown(true);

  controller = new AbortController();
  setBusy(true);
  const system = settings.system.trim() ? [{ role: 'system', content: settings.system }] : [];
  const maxTokens = Math.min(settings.maxTokens, maxTokensCap());
  // Earlier answers go back without their reasoning (as DeepSeek-R1 expects); the oldest exchanges
  // are left out once the conversation outgrows the context.
  const { messages, dropped } = await fitContext(system, current.messages, maxTokens);
  if (dropped > 0) view.el.before(contextNotice(dropped));
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
  let error = null;
  let usage = null;
  try {
    const res = await fetch('/v1/chat/completions', {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({
        model,
        messages,
        stream: true,
        stream_options: { include_usage: true },
        temperature: settings.temperature,
        max_tokens: maxTokens,
        ...(serverSearch ? { search: searchOn() } : {}),
        ...(files.length > 0 ? { files } : {}),
      }),
      signal: controller.signal,
    });
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    }
    for await (const chunk of events(res)) {
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) usage = chunk.usage;
      if (chunk.search || chunk.files) {
        // Before the text (and again between rounds when the model searches by itself).
        const cut = (chunk.files ?? []).filter((f) => f.truncated).map((f) => `The file ${f.name} was cut to fit the model's context.`);
        const s = chunk.search ?? { results: [], notices: [] };
        reply.search = { results: s.results ?? [], notices: [...(s.notices ?? []), ...cut] };
        view.sources(reply.search);
      }
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
    else {
      error = e.message;
      view.error(e.message);
    }
  } finally {
    controller = null;
    setBusy(false);
  }
  paint(true, stopped);
  Object.assign(reply, { stopped, thinkingSeconds });
  // Present when the server decodes speculatively (`dsts serve --speculative mtp`).
  const details = usage?.completion_tokens_details;
  if (details && typeof details.accepted_prediction_tokens === 'number') {
    reply.speculation = { accepted: details.accepted_prediction_tokens, rejected: details.rejected_prediction_tokens ?? 0 };
    view.speculation(reply.speculation);
  }
  if (dropped > 0) reply.dropped = dropped;
  if (error !== null) Object.assign(reply, { failed: true, error });
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
  // No `max` attribute: a value above it would block the form; saving caps it instead.
  f.maxTokens.title = Number.isFinite(maxTokensCap()) ? `at most ${maxTokensCap()} on this server` : '';
  f.apiKey.value = settings.apiKey ?? '';
  els.settings.showModal();
}

function saveSettingsFromForm() {
  const f = els.settings.querySelector('form');
  const maxTokens = Math.min(Math.round(Number(f.maxTokens.value)), maxTokensCap());
  const keyChanged = f.apiKey.value.trim() !== (settings.apiKey ?? '');
  settings = {
    system: f.system.value,
    temperature: Number(f.temperature.value),
    maxTokens: Number.isFinite(maxTokens) && maxTokens >= 1 ? maxTokens : Math.min(store.DEFAULT_SETTINGS.maxTokens, maxTokensCap()),
    apiKey: f.apiKey.value.trim(),
    search: settings.search,
  };
  store.saveSettings(settings);
  if (keyChanged) void loadModels();
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
els.searchToggle.addEventListener('click', () => {
  settings = { ...settings, search: !searchOn() };
  store.saveSettings(settings);
  showSearchToggle();
});
els.attach.addEventListener('click', () => els.fileInput.click());
els.fileInput.addEventListener('change', async () => {
  await attachFiles([...els.fileInput.files]);
  els.fileInput.value = '';
});
const menu = $('[data-testid=menu]');
const showSidebar = (open) => {
  document.body.classList.toggle('sidebar-open', open);
  menu.setAttribute('aria-expanded', String(open));
};
menu.addEventListener('click', () => showSidebar(!document.body.classList.contains('sidebar-open')));
// Choosing a conversation (or a new one) on a phone closes the overlay.
$('.sidebar').addEventListener('click', (e) => {
  if (e.target.closest('.open, .new-chat')) showSidebar(false);
});
$('[data-testid=new-chat]').addEventListener('click', () => {
  if (controller) return;
  current = null;
  persist();
  showModel();
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
  showModel();
  renderConversation();
});
// Picking a model switches the current conversation to it, and new conversations start with it.
els.picker.addEventListener('change', () => {
  store.saveLastModel(els.picker.value);
  if (current) {
    current.model = els.picker.value;
    persist();
  }
  showModel();
});

renderHistory();
renderConversation();
await Promise.all([loadModels(), loadSearch()]);
document.body.dataset.ready = '1';

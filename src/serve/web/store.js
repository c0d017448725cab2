// Conversations and settings, kept in the browser's localStorage (nothing is stored on the server).
const CONVERSATIONS = 'dsts.conversations';
const CURRENT = 'dsts.current';
const SETTINGS = 'dsts.settings';
const MODEL = 'dsts.model';

export const DEFAULT_SETTINGS = { system: '', temperature: 0.7, maxTokens: 1024, apiKey: '' };

function read(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? 'null');
    return v ?? fallback;
  } catch {
    return fallback;
  }
}

export function loadSettings() {
  return { ...DEFAULT_SETTINGS, ...read(SETTINGS, {}) };
}

export function saveSettings(s) {
  localStorage.setItem(SETTINGS, JSON.stringify(s));
}

/** The model last picked: what a new conversation starts with. */
export function loadLastModel() {
  return localStorage.getItem(MODEL);
}

export function saveLastModel(id) {
  localStorage.setItem(MODEL, id);
}

/**
 * All conversations, newest first: { id, title, updated, model?, messages: [{ role, content,
 * reasoning? }] } — `model` is the one it talks to (picked for it, kept with it).
 */
export function loadConversations() {
  const list = read(CONVERSATIONS, []);
  return Array.isArray(list) ? list : [];
}

export function saveConversations(list) {
  localStorage.setItem(CONVERSATIONS, JSON.stringify(list));
}

export function loadCurrentId() {
  return localStorage.getItem(CURRENT);
}

export function saveCurrentId(id) {
  if (id) localStorage.setItem(CURRENT, id);
  else localStorage.removeItem(CURRENT);
}

export function newConversation() {
  // crypto.randomUUID needs a secure context; a LAN address over plain http is not one.
  const id = globalThis.crypto?.randomUUID?.() ?? `c${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
  return { id, title: 'New chat', updated: Date.now(), messages: [] };
}

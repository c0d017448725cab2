/**
 * SFT examples as tokens with a loss mask: only what the assistant writes is trained; system, user
 * and tool text, and the template's own markup before each reply, are context.
 *
 * Each assistant turn i is cut the way generation will see it: the prompt is the conversation up to
 * it rendered with the generation prompt (what `dsts chat` sends), and the target is what follows —
 * the reply as written, minus any opening the generation prompt already wrote (R1's `<think>\n`),
 * plus the template's end of turn (`<｜end▁of▁sentence｜>`, `<|im_end|>`), found by rendering the
 * turn around a sentinel. Prompt and target are tokenised separately, as at inference (the prompt is
 * encoded alone, the reply is generated token by token).
 *
 * A template that renders a conversation incrementally (each prefix renders as a prefix of the
 * whole) gives one example with every reply trained; one that rewrites history — R1's drops the
 * reasoning of earlier replies — gives one example per reply, each with the history as inference
 * will render it.
 *
 * Formats (one JSON object per line):
 *   {"messages": [{"role": "user", "content": …}, {"role": "assistant", "content": …}, …]}
 *   {"prompt": "…", "completion": "…"}                  (a user turn and the reply)
 *   {"prompt": [messages…], "completion": [{"role": "assistant", …}]}   (TRL's conversational form)
 * With template "plain", prompt/completion are raw text: prompt, then completion + EOS trained.
 */
import type { Tokenizer } from '../../tokenizer/index.ts';
import type { ChatMessage } from '../../tokenizer/chat-template.ts';
import { chatTemplateText } from '../../generate/load.ts';
import { fallbackTemplateFor } from '../../generate/chat-layout.ts';
import { PosttrainError } from '../errors.ts';
import type { Example } from '../data/jsonl.ts';

export type SftTemplate = 'chat' | 'plain';

/** One training sequence: its tokens, and which of them are targets. */
export interface SftSequence {
  ids: Int32Array;
  /** 1 where the token is trained (predicted from what precedes it). */
  trained: Uint8Array;
}

const SENTINEL = '\u0000dsts-sft-reply\u0000';
const where = (ex: Example) => `${ex.file}:${ex.line + 1}`;

/** The example as a conversation ending with at least one assistant reply. */
function conversation(ex: Example): ChatMessage[] {
  const d = ex.data;
  let msgs: unknown;
  if (Array.isArray(d.messages)) msgs = d.messages;
  else if (d.prompt !== undefined && d.completion !== undefined) {
    const prompt = typeof d.prompt === 'string' ? [{ role: 'user', content: d.prompt }] : d.prompt;
    const completion = typeof d.completion === 'string' ? [{ role: 'assistant', content: d.completion }] : d.completion;
    if (!Array.isArray(prompt) || !Array.isArray(completion))
      throw new PosttrainError(`${where(ex)}: "prompt" and "completion" must be text or lists of messages`);
    msgs = [...prompt, ...completion];
  } else throw new PosttrainError(`${where(ex)}: an SFT example needs "messages", or "prompt" and "completion"`);
  const list = msgs as ChatMessage[];
  for (const m of list) {
    if (typeof m !== 'object' || m === null || typeof m.role !== 'string')
      throw new PosttrainError(`${where(ex)}: each message needs a "role"`);
    if (m.role === 'assistant' && typeof m.content !== 'string')
      throw new PosttrainError(`${where(ex)}: assistant messages need text "content"`);
  }
  if (!list.some((m) => m.role === 'assistant')) throw new PosttrainError(`${where(ex)}: no assistant message to train on`);
  return list;
}

interface Turn {
  prompt: string;
  target: string;
  /** The conversation rendered through this reply (for the incremental check). */
  through: string;
}

function renderTurns(ex: Example, msgs: ChatMessage[], tok: Tokenizer): Turn[] {
  const template = fallbackTemplateFor(chatTemplateText(tok));
  const render = (m: ChatMessage[], gen: boolean) => tok.applyChatTemplate(m, { addGenerationPrompt: gen, chatTemplate: template });
  const turns: Turn[] = [];
  msgs.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const before = msgs.slice(0, i);
    const prompt = render(before, true);
    const probe = render([...before, { ...m, content: SENTINEL }], false);
    const at = probe.indexOf(SENTINEL);
    if (at < 0)
      throw new PosttrainError(
        `${where(ex)}: the chat template does not write the assistant's content as given; cannot find what to train`,
      );
    const head = probe.slice(0, at);
    const endOfTurn = probe.slice(at + SENTINEL.length);
    const opening = prompt.startsWith(head) ? prompt.slice(head.length) : '';
    const content = m.content as string;
    const reply = opening !== '' && content.startsWith(opening) ? content.slice(opening.length) : content;
    turns.push({ prompt, target: reply + endOfTurn, through: render(msgs.slice(0, i + 1), false) });
  });
  return turns;
}

/** The training sequences of one example. */
export function renderSft(ex: Example, tok: Tokenizer, template: SftTemplate): SftSequence[] {
  if (template === 'plain') {
    const { prompt, completion } = ex.data;
    if (typeof prompt !== 'string' || typeof completion !== 'string')
      throw new PosttrainError(`${where(ex)}: template "plain" needs text "prompt" and "completion"`);
    const eos = tok.specialTokens.eos_token ?? '';
    return [
      build([
        [tok.encode(prompt, { addSpecialTokens: true }), false],
        [tok.encode(completion + eos), true],
      ]),
    ];
  }
  const msgs = conversation(ex);
  const turns = renderTurns(ex, msgs, tok);
  const whole = turns[turns.length - 1]!.through;
  const incremental = turns.every((t) => t.prompt + t.target === t.through && whole.startsWith(t.through));
  if (incremental) {
    const pieces: [number[], boolean][] = [];
    let at = 0;
    for (const t of turns) {
      pieces.push([tok.encode(t.prompt.slice(at)), false], [tok.encode(t.target), true]);
      at = t.through.length;
    }
    return [build(pieces)];
  }
  return turns.map((t) =>
    build([
      [tok.encode(t.prompt), false],
      [tok.encode(t.target), true],
    ]),
  );
}

function build(pieces: [number[], boolean][]): SftSequence {
  const n = pieces.reduce((a, [ids]) => a + ids.length, 0);
  const ids = new Int32Array(n);
  const trained = new Uint8Array(n);
  let at = 0;
  for (const [piece, train] of pieces) {
    ids.set(piece, at);
    if (train) trained.fill(1, at, at + piece.length);
    at += piece.length;
  }
  return { ids, trained };
}

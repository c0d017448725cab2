/**
 * The tokenizer: HF `tokenizer.json` (+ optional `tokenizer_config.json`) → encode / decode /
 * chat templates. The pipeline per input string, as in HF tokenizers:
 *
 *   added tokens with normalized=false, matched on the raw text
 *   → normalizer on the remaining pieces
 *   → added tokens with normalized=true, matched on the normalized pieces
 *   → pre-tokenizer (Split / Digits / ByteLevel) → words
 *   → byte-level BPE per word (cached)
 *   → (optionally) special tokens from the config / post-processor.
 */
import { AddedTokenMatcher, parseAddedToken, type AddedToken, type SplitSink } from './added-tokens.ts';
import { BpeModel, type BpeOptions } from './bpe.ts';
import { renderChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat-template.ts';
import { chatTemplates, cleanUpTokenization, specialTokensMap, tokenContent, type SpecialTokensMap } from './config.ts';
import { ByteLevelDecoder, checkDecoder } from './decoder.ts';
import { IdBuffer } from './id-buffer.ts';
import { check, TokenizerError } from './errors.ts';
import { buildNormalizer, type Normalizer } from './normalizers.ts';
import { frameFromPostProcessor, type SpecialTokenFrame } from './post-processor.ts';
import { buildPreTokenizer, type PreTokenizer } from './pre-tokenizers.ts';
import type { TokenizerConfigJson, TokenizerJson } from './schema.ts';

export interface EncodeOptions {
  /** Add BOS/EOS as the tokenizer's config / post-processor says (default false). */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out added tokens marked `special` (default false). */
  skipSpecialTokens?: boolean;
  /** Apply transformers' clean-up of spaces before punctuation (default: the config's `clean_up_tokenization_spaces`, else false). */
  cleanUpTokenizationSpaces?: boolean;
}

export type TokenizerOptions = BpeOptions;

/**
 * A loaded tokenizer. Usually made by `loadTokenizer(pathToFileOrFolder)`:
 *
 *   const tok = loadTokenizer('DeepSeek-V3/');
 *   tok.encode('Hello, world!');                           // [19923, 14, 2058, 3]
 *   tok.decode([19923, 14, 2058, 3]);                      // 'Hello, world!'
 *   tok.applyChatTemplate([{ role: 'user', content: '你好' }], { addGenerationPrompt: true });
 *
 * Not re-entrant across threads (it keeps scratch buffers), which JavaScript never asks of it.
 */
export class Tokenizer {
  readonly model: BpeModel;
  /** All added tokens, in tokenizer.json order. */
  readonly addedTokens: readonly AddedToken[];
  /** tokenizer_config.json as loaded ({} when absent). */
  readonly config: TokenizerConfigJson;
  /** bos_token, eos_token, … as strings (for chat templates and callers). */
  readonly specialTokens: SpecialTokensMap;
  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer;
  private readonly rawMatcher: AddedTokenMatcher | null;
  private readonly normalizedMatcher: AddedTokenMatcher | null;
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly frame: SpecialTokenFrame;
  private readonly decoder = new ByteLevelDecoder();
  private readonly templates: Map<string, string>;
  private cachedVocabSize = -1;
  /** Scratch output of encode, reused between calls. */
  private readonly ids = new IdBuffer();

  constructor(json: TokenizerJson, config: TokenizerConfigJson = {}, options: TokenizerOptions = {}) {
    check(typeof json === 'object' && json !== null && !Array.isArray(json), 'tokenizer.json must be a JSON object');
    check(typeof config === 'object' && config !== null && !Array.isArray(config), 'tokenizer_config.json must be a JSON object');
    this.config = config;
    this.model = BpeModel.fromJson(json.model, options);
    this.normalizer = buildNormalizer(json.normalizer);
    this.preTokenizer = buildPreTokenizer(json.pre_tokenizer);
    checkDecoder(json.decoder);

    check(json.added_tokens === undefined || Array.isArray(json.added_tokens), "tokenizer.json: 'added_tokens' must be an array");
    const added = (json.added_tokens ?? []).map((t, k) => {
      check(
        typeof t?.content === 'string' && Number.isInteger(t.id) && t.id >= 0,
        `tokenizer.json: added_tokens[${k}] needs 'id' and 'content'`,
      );
      return parseAddedToken(t);
    });
    this.addedTokens = added;
    for (const t of added) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t);
    }
    const raw = added.filter((t) => !t.normalized);
    const norm = added.filter((t) => t.normalized);
    this.rawMatcher = raw.length > 0 ? new AddedTokenMatcher(raw) : null;
    const normalize = this.normalizer;
    this.normalizedMatcher =
      norm.length > 0
        ? new AddedTokenMatcher(
            norm,
            norm.map((t) => (normalize ? normalize(t.content) : t.content)),
          )
        : null;

    this.specialTokens = specialTokensMap(config);
    this.frame = this.buildFrame(json);
    this.templates = chatTemplates(config);
  }

  /** Special tokens to add: config flags win over the tokenizer.json post-processor (see post-processor.ts). */
  private buildFrame(json: TokenizerJson): SpecialTokenFrame {
    const { add_bos_token: bos, add_eos_token: eos } = this.config;
    if (typeof bos === 'boolean' || typeof eos === 'boolean') {
      const idFor = (field: 'bos_token' | 'eos_token') => {
        const content = tokenContent(this.config[field], field);
        const id = content === undefined ? undefined : this.tokenToId(content);
        if (id === undefined)
          throw new TokenizerError(`tokenizer_config: add_${field.slice(0, 3)}_token is set but ${field} is not in the vocabulary`);
        return id;
      };
      return { prefix: bos === true ? [idFor('bos_token')] : [], suffix: eos === true ? [idFor('eos_token')] : [] };
    }
    return frameFromPostProcessor(json.post_processor, (t) => this.tokenToId(t));
  }

  /** Number of ids (model vocabulary and added tokens): max id + 1. */
  get vocabSize(): number {
    if (this.cachedVocabSize < 0) {
      let n = this.model.size;
      for (const id of this.addedById.keys()) n = Math.max(n, id + 1);
      this.cachedVocabSize = n;
    }
    return this.cachedVocabSize;
  }

  /** Id of a token string (added-token content or vocabulary entry in byte-alphabet form). */
  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.model.vocab.get(token);
  }

  /** Token string of an id (added tokens: their content; others: byte-alphabet form), or undefined. */
  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken[id];
  }

  /** Whether `id` is an added token marked special. */
  isSpecial(id: number): boolean {
    return this.addedById.get(id)?.special === true;
  }

  /** Encodes text to ids. Special-token text in the input (e.g. `<｜User｜>`) always becomes its id. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.encodeToBuffer(text, options).toArray();
  }

  /** Like `encode`, as an Int32Array (compact for large corpora). */
  encodeToInt32(text: string, options: EncodeOptions = {}): Int32Array {
    const buf = this.encodeToBuffer(text, options);
    return buf.data.slice(0, buf.length);
  }

  /** Encodes text to token strings (byte-alphabet form, e.g. 'Ġworld'). */
  tokenize(text: string, options: EncodeOptions = {}): string[] {
    return this.encode(text, options).map((id) => this.idToToken(id)!);
  }

  /** Encodes into the reusable buffer (valid until the next call). */
  private encodeToBuffer(text: string, options: EncodeOptions): IdBuffer {
    const out = this.ids;
    out.length = 0;
    if (options.addSpecialTokens) out.pushAll(this.frame.prefix);
    const emitToken = (t: AddedToken) => out.push(t.id);
    const plain = (piece: string) => this.encodePlain(piece, out);
    const encodeNormalized = (piece: string) => {
      if (this.normalizedMatcher === null) return plain(piece);
      this.normalizedMatcher.split(piece, { text: plain, token: emitToken });
    };
    const afterRaw = (piece: string) => encodeNormalized(this.normalizer ? this.normalizer(piece) : piece);
    if (this.rawMatcher === null) afterRaw(text);
    else this.rawMatcher.split(text, { text: afterRaw, token: emitToken } satisfies SplitSink);
    if (options.addSpecialTokens) out.pushAll(this.frame.suffix);
    return out;
  }

  /** Pre-tokenizes normalized text without added tokens and runs BPE on each word. */
  private encodePlain(text: string, out: IdBuffer): void {
    const model = this.model;
    this.preTokenizer.forEachWord(text, (word) => model.encodeWord(word, out));
  }

  /** Decodes ids to text. Throws TokenizerError for an id outside the vocabulary. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const decoder = this.decoder;
    const skipSpecial = options.skipSpecialTokens === true;
    const modelTokens = this.model.idToToken;
    decoder.begin();
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const added = this.addedById.get(id);
      if (added !== undefined && added.special && skipSpecial) continue;
      const token = added?.content ?? modelTokens[id];
      if (token === undefined) throw new TokenizerError(`unknown token id ${id} (vocabulary size ${this.vocabSize})`);
      decoder.append(id, token);
    }
    const text = decoder.finish();
    const cleanUp = options.cleanUpTokenizationSpaces ?? this.config.clean_up_tokenization_spaces === true;
    return cleanUp ? cleanUpTokenization(text) : text;
  }

  /** Names of the chat templates in tokenizer_config.json ('default' for a single one). */
  get chatTemplateNames(): string[] {
    return [...this.templates.keys()];
  }

  /**
   * Renders a conversation with the config's chat template (Jinja, via @huggingface/jinja), giving
   * it the context transformers does: messages, tools, documents, add_generation_prompt, the special
   * tokens (bos_token, eos_token, …) and any extra variables.
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    const name = options.templateName ?? (this.templates.has('default') ? 'default' : this.templates.keys().next().value);
    const template = options.chatTemplate ?? (name === undefined ? undefined : this.templates.get(name));
    if (template === undefined) {
      throw new TokenizerError(
        options.templateName ? `no chat template named '${options.templateName}'` : 'tokenizer_config.json has no chat_template',
      );
    }
    return renderChatTemplate(template, messages, options, this.specialTokens);
  }

  /** Renders the chat template and encodes the result (the rendered text carries its own BOS). */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options));
  }
}

/**
 * `dsts chat`: an interactive conversation in the terminal. Replies stream as they are generated; a
 * reasoning model's thinking is shown apart from its answer (dimmed on a terminal, prefixed when the
 * output is piped) and is not fed back in later turns.
 */
import { createInterface } from 'node:readline';
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { ChatSession, R1_SAMPLING, fallbackTemplateFor, isReasoningTemplate } from '../../generate/index.ts';
import { TokenizerError } from '../../tokenizer/errors.ts';
import { quantizeFlag, quantizeOption, QUANTIZE_USAGE, speculativeFlag, speculativeOption, SPECULATIVE_USAGE } from '../args.ts';
import { samplingOptions, samplingFromFlags, effectiveSampling, maxTokensFlag, openModel, requireTokenizer } from './generate.ts';
import { EMBEDDED_MODEL, embeddedModelReady } from './serve.ts';

const usage = `usage: dsts chat [--model <dir>] [--tokenizer <file|dir>] [--system <text>] [options]

Chats with the model through its tokenizer's chat template (without one, the plain "User: …
Assistant:" layout \`dsts serve\` uses too). Type a message and press Enter. When the conversation
outgrows the model's context, the oldest exchanges are dropped (the system prompt stays) with a note.
  /reset   start a new conversation
  /exit    leave (so do Ctrl-D and, between replies, Ctrl-C; during a reply Ctrl-C stops it)

options:
  --model <dir>             checkpoint folder (default: the embedded model, models/deepseek-ts-nano)
  --tokenizer <file|dir>    tokenizer.json (default: the one in the model folder)
  --system <text>           system message
  --max-tokens <n>          most tokens per reply (default 2048)
  --temperature <t>         default: the model's generation_config.json, else 0.6 (R1's); 0 = greedy
  --top-p <p>               default: the model's, else 0.95
  --top-k <k>  --min-p <p>  --repetition-penalty <r>  --seed <n>
${QUANTIZE_USAGE}
${SPECULATIVE_USAGE}`;

/** Reasoning lines are prefixed with this when the output is not a terminal. */
const THINK_PREFIX = '[think] ';
const DIM = '\x1b[2m';
const UNDIM = '\x1b[22m';

/** Writes a reply's pieces: reasoning apart (dimmed or prefixed), then the answer. Exported for tests. */
export class ReplyPrinter {
  private inThinking = false;
  private lineStart = true;

  constructor(
    private readonly out: { write(text: string): unknown },
    private readonly tty: boolean,
  ) {}

  reasoning(text: string): void {
    if (!text) return;
    if (!this.inThinking) {
      this.inThinking = true;
      if (this.tty) this.out.write(DIM);
    }
    if (this.tty) {
      this.write(text);
      return;
    }
    for (const ch of text.split(/(\n)/)) {
      if (ch === '') continue;
      if (this.lineStart && ch !== '\n') this.out.write(THINK_PREFIX);
      this.write(ch);
    }
  }

  content(text: string): void {
    if (!text) return;
    this.endThinking();
    this.write(text);
  }

  /** Ends the reply on a fresh line. */
  end(): void {
    this.endThinking();
    if (!this.lineStart) this.out.write('\n');
  }

  private endThinking(): void {
    if (!this.inThinking) return;
    this.inThinking = false;
    if (this.tty) this.out.write(UNDIM);
    if (!this.lineStart) this.out.write('\n');
    this.out.write('\n');
    this.lineStart = true;
  }

  private write(text: string): void {
    this.out.write(text);
    this.lineStart = text.endsWith('\n');
  }
}

/** The embedded model, as `dsts serve` uses it when no --model is given. */
function embeddedModel(): string {
  if (!embeddedModelReady())
    throw new UserError(`chat: the embedded model is not there (${EMBEDDED_MODEL}): train it first, or pass --model <dir>`);
  return EMBEDDED_MODEL;
}

const command: Command = {
  summary: 'chat with a model in the terminal (streaming, thinking shown apart)',
  usage,
  async run(args) {
    const { values: v } = parse(args, {
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      system: { type: 'string' },
      ...samplingOptions,
      ...quantizeOption,
      ...speculativeOption,
    });
    const flags = samplingFromFlags(v);
    const maxTokens = maxTokensFlag(v['max-tokens'], 2048);
    const setup = openModel(v.model ?? embeddedModel(), v.tokenizer, 'chat', quantizeFlag(v.quantize), speculativeFlag(v));
    const tokenizer = requireTokenizer(setup, 'chat');
    const sampling = effectiveSampling(flags, setup, R1_SAMPLING);
    // Without a chat template, the same plain "User: … Assistant:" layout `dsts serve` uses.
    const session = new ChatSession(setup.generator, tokenizer, {
      system: v.system,
      maxTokens,
      sampling,
      chatTemplate: fallbackTemplateFor(setup.chatTemplate),
      reasoning: isReasoningTemplate(setup.chatTemplate),
    });

    const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
    const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty });
    let replying = false;
    let stop = false;
    rl.on('SIGINT', () => {
      if (replying) stop = true;
      else rl.close();
    });
    if (tty) {
      console.log('dsts chat — /reset starts over, /exit leaves.');
      rl.setPrompt('> ');
      rl.prompt();
    }
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === '/exit' || line === '/quit') break;
      if (line === '/reset') {
        session.reset();
        console.log('(conversation reset)');
      } else if (line.length > 0) {
        const printer = new ReplyPrinter(process.stdout, tty);
        replying = true;
        stop = false;
        try {
          for await (const d of session.send(line)) {
            if (d.dropped)
              console.error(
                `(the conversation outgrew the model's context of ${setup.generator.maxContext} tokens: ${d.dropped === 2 ? 'the oldest exchange was' : `the oldest ${d.dropped / 2} exchanges were`} dropped; /reset starts over)`,
              );
            printer.reasoning(d.reasoning);
            printer.content(d.content);
            if (stop) break;
          }
        } catch (e) {
          // A turn that cannot run (prompt longer than the context, a tokenizer/model mismatch) ends
          // that turn, not the chat.
          if (!(e instanceof TokenizerError || e instanceof RangeError)) throw e;
          printer.end();
          console.error(`dsts: ${e.message}`);
        } finally {
          replying = false;
          printer.end();
        }
        if (stop) console.log('(stopped)');
      }
      if (tty) rl.prompt();
    }
    rl.close();
    return 0;
  },
};

export default command;

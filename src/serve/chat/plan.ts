/**
 * What a chat request asks of the decoder beyond sampling: the grammar its output must follow (JSON
 * mode, a forced tool call, a thinking budget) and how its output is routed (reasoning, tool calls).
 */
import type { ServedModel } from '../served-model.ts';
import { ConstraintChain, type TokenConstraint } from '../constrain/constraint.ts';
import { FreeSegment, JsonSegment, ThinkingSegment, type Segment } from '../constrain/segments.ts';
import { specialTokenPattern, type ChatOutputOptions } from './output.ts';
import type { ChatPrompt } from './prompt.ts';
import type { ChatRequest } from './request.ts';

export interface ChatPlan {
  constraint?: TokenConstraint;
  /** Decode special tokens as text (the DeepSeek tool-call markers are special tokens). */
  skipSpecialTokens: boolean;
  output: ChatOutputOptions;
}

export function planChat(model: ServedModel, r: ChatRequest, prompt: ChatPrompt, thinkingBudget: number): ChatPlan {
  const toolsActive = r.tools.length > 0 && r.toolChoice !== 'none';
  const dialect = toolsActive ? model.toolDialect : null;
  const forcedTool = toolsActive && r.toolChoice !== 'auto';
  const thinking = model.reasoning && prompt.opensThinking;
  const segments: Segment[] = [];
  const bytes = () => model.tokenBytes();
  if (thinking && (r.jsonMode || forcedTool || Number.isFinite(thinkingBudget))) {
    segments.push(new ThinkingSegment(model.tokenizer.encode('\n</think>\n\n'), bytes(), thinkingBudget));
  }
  if (r.jsonMode) {
    segments.push(new JsonSegment(bytes()));
  } else if (forcedTool && dialect) {
    const names = r.tools.map((t) => t.function.name);
    const only = typeof r.toolChoice === 'object' ? r.toolChoice.name : names.length === 1 ? names[0]! : null;
    segments.push(...dialect.forcedCall(names, only, model.tokenizer, bytes()));
  } else if (segments.length > 0) {
    segments.push(new FreeSegment());
  }
  const keepSpecials = dialect?.name === 'deepseek';
  const specials = model.tokenizer.addedTokens.filter((t) => t.special).map((t) => t.content);
  return {
    constraint: segments.length > 0 ? new ConstraintChain(segments) : undefined,
    skipSpecialTokens: !keepSpecials,
    output: {
      reasoning: model.reasoning,
      opensThinking: prompt.opensThinking,
      tools: dialect,
      strip: keepSpecials ? specialTokenPattern(specials, []) : null,
    },
  };
}

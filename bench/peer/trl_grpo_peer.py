"""TRL's GRPOTrainer on the checkpoint bench/grpo.ts wrote, with its settings: the peer of `npm run bench:grpo`.

Usage: python trl_grpo_peer.py --model DIR --prompts JSONL --groups 4,8,16 --prompts-per-step P
                               --prompt-len LP --completion-len LC --steps S --out DIR [--threads N]
Prints one JSON line: {"trl", "transformers", "torch", "threads", "results": {G: {"rollout", "train"}}},
tokens/s as bench/grpo.ts defines them:
- rollout: completion tokens generated / time in generation (transformers' generate, HF cache);
- train: (prompt + completion tokens) / (step time - time generating and scoring), i.e. log-probs,
  loss, backward and the AdamW step.
The first step of each group size warms up; the figures are the mean over the other steps.
"""
import argparse
import json
import os
import time

# Everything is local: no hub calls, no telemetry.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import torch
import transformers
import trl
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import GRPOConfig, GRPOTrainer


def distinct_chars(completions, **_):
    """The reward of bench/lib/grpo-reward.ts: the share of distinct characters."""
    return [len(set(c)) / len(c) if c else 0.0 for c in completions]


class StepClock(TrainerCallback):
    def __init__(self):
        self.started = 0.0
        self.steps = []

    def on_step_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(time.perf_counter() - self.started)


def timed(fn, log):
    def wrapper(*a, **k):
        t = time.perf_counter()
        out = fn(*a, **k)
        log.append((time.perf_counter() - t, out))
        return out

    return wrapper


def run(args, G, prompts):
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    lengths = {len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts}
    if lengths != {args.prompt_len}:
        raise SystemExit(f"the prompts are {sorted(lengths)} tokens here, not {args.prompt_len}")
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    config = GRPOConfig(
        output_dir=os.path.join(args.out, f"trl-g{G}"),
        per_device_train_batch_size=args.prompts_per_step * G,
        gradient_accumulation_steps=1,
        num_generations=G,
        max_completion_length=args.completion_len,
        temperature=1.0,
        top_p=1.0,
        beta=0.0,
        num_iterations=1,
        loss_type="dapo",
        learning_rate=1e-6,
        adam_beta1=0.9,
        adam_beta2=0.999,
        weight_decay=0.0,
        max_grad_norm=1.0,
        lr_scheduler_type="constant",
        max_steps=args.steps,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        seed=0,
        shuffle_dataset=False,
        disable_tqdm=True,
    )
    # Enough rows for every step; the sampler repeats each prompt G times.
    data = Dataset.from_list([{"prompt": prompts[i % len(prompts)]} for i in range(args.prompts_per_step * args.steps)])
    clock = StepClock()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=distinct_chars,
        args=config,
        train_dataset=data,
        processing_class=tokenizer,
        callbacks=[clock],
    )
    generated, scored = [], []
    trainer._generate_single_turn = timed(trainer._generate_single_turn, generated)
    trainer._generate_and_score_completions = timed(trainer._generate_and_score_completions, scored)
    trainer.train()
    rollout, train = [], []
    for step in range(1, len(clock.steps)):  # the first step warms up
        seconds, (completion_ids, *_rest) = generated[step]
        tokens = sum(len(c) for c in completion_ids)
        rollout.append(tokens / seconds)
        rows = args.prompts_per_step * G
        train.append((rows * args.prompt_len + tokens) / (clock.steps[step] - scored[step][0]))
    return {"rollout": sum(rollout) / len(rollout), "train": sum(train) / len(train)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--prompts", required=True)
    p.add_argument("--groups", required=True)
    p.add_argument("--prompts-per-step", type=int, required=True)
    p.add_argument("--prompt-len", type=int, required=True)
    p.add_argument("--completion-len", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    with open(args.prompts) as f:
        prompts = [json.loads(line)["prompt"] for line in f if line.strip()]
    results = {g: run(args, int(g), prompts) for g in args.groups.split(",")}
    print(
        json.dumps(
            {
                "trl": trl.__version__,
                "transformers": transformers.__version__,
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()

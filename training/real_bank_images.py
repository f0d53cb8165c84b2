"""Real images for the evaluator's real feature bank: for every prompt of evaluator/prompts.json (one per attribute
combination), K images of exactly that combination, drawn by shapes_data from a seed no training or evaluator stage
uses (those use seeds 1 to 5). Writes raw uint8 [prompts * K, 64, 64, 3] (prompt-major) for
`npm run real-bank`, which computes the evaluator features in TypeScript exactly as the experiments do for
generated images.

    python3 training/real_bank_images.py --prompts models/restart-shapes-64/evaluator/prompts.json --per-prompt 64 --out FILE
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes_data as D  # noqa: E402

BANK_SEED = 21


def draw_geometry(rng, count):
    """Shape geometry of a `count`-shape image: sample_attributes' own draw, kept when its count matches. Colours and
    kind are drawn independently of the geometry, so this is the generator's geometry distribution for that count."""
    while True:
        attr = D.sample_attributes(rng)
        if attr["count"] == count:
            return attr["shapes"]


def render_prompt(rng, labels, k):
    """k images of one attribute combination (labels index the evaluator classes: count class 0, 1 = 1, 2 shapes)."""
    out = np.zeros((k, D.SIZE, D.SIZE, 3), np.uint8)
    count = D.COUNTS[labels["count"]]
    for i in range(k):
        attr = {"bg": labels["background"], "fg": labels["color"], "shape": labels["shape"], "count": count}
        attr["shapes"] = draw_geometry(rng, count)
        out[i] = D.render(attr, rng)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--per-prompt", type=int, default=64)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.prompts) as f:
        prompts = json.load(f)["prompts"]
    rng = np.random.default_rng(BANK_SEED)
    with open(args.out + ".tmp", "wb") as f:
        for p in prompts:
            f.write(np.ascontiguousarray(render_prompt(rng, p["labels"], args.per_prompt)).tobytes())
    os.replace(args.out + ".tmp", args.out)
    print(f"{len(prompts)} prompts x {args.per_prompt} images (seed {BANK_SEED}) -> {args.out}")


if __name__ == "__main__":
    main()

"""Chain.span passes over the steps that changed nothing: the same spans as mapping through every step."""
from __future__ import annotations

import random

from pipeline.stages.align import Alignment, Chain, Edit, apply_edits


def _edits(text: str, rnd: random.Random) -> list[Edit]:
    """A few non-overlapping random edits of text (deletions, insertions, replacements)."""
    cuts = sorted(rnd.sample(range(len(text) + 1), min(6, len(text) + 1) // 2 * 2))
    return [Edit(a, b, rnd.choice(["", "x", "yy", "zzz"]), "test") for a, b in zip(cuts[::2], cuts[1::2])]


def test_identity_steps_change_no_span():
    rnd = random.Random(7)
    for _ in range(200):
        text = "".join(rnd.choice("abc，。") for _ in range(rnd.randint(6, 40)))
        chain = Chain()
        steps = []
        for _ in range(3):
            text, a = apply_edits(text, _edits(text, rnd))
            ident = Alignment.identity(len(text))
            for step in (a, ident):
                chain.add(step)
                steps.append(step)
        assert all(step.is_identity() for step in steps[1::2])
        for _ in range(20):
            s = rnd.randint(0, len(text))
            e = rnd.randint(s, len(text))
            want = (s, e)
            for step in reversed(steps):
                want = step.span(*want)
            assert chain.span(s, e) == want

"""Benchmark of the name guard (issue: under a millisecond for a kilobyte of keywords).

Run: .venv/bin/python benchmarks/nameguard.py
Prints the median time per kilobyte for a clean text (the slow path: every rule runs to the
end) and its ratio to the 1 ms budget, all measured in this one run.
"""

from __future__ import annotations

import random
import statistics
import timeit

from coachregister.lib.nameguard import Person, check

WORDS = [
    "werkdruk",
    "rust",
    "doel",
    "energie",
    "plannen",
    "grenzen",
    "sport",
    "slaap",
    "balans",
    "team",
    "leiding",
    "stress",
    "herstel",
    "gesprek",
    "evaluatie",
    "januari",
    "12-03-2026",
    "10:30",
    "score",
    "7/10",
    "afspraak",
    "volgende",
    "week",
    "oefening",
    "ademhaling",
    "feedback",
]


def kilobyte(seed: int) -> str:
    rng = random.Random(seed)
    text = ""
    while len(text.encode()) < 1100:
        text += rng.choice(WORDS) + " "
    return text[: text.rfind(" ", 0, 1024)]


def main() -> None:
    person = Person(
        "Jan-Willem", "van den Berg-Ødegård", "jan.willem@voorbeeld.example", "+31612345678"
    )
    texts = [kilobyte(seed) for seed in range(20)]
    assert all(check(t, person) == [] for t in texts)  # the slow path: nothing found
    runs = []
    for text in texts:
        timer = timeit.Timer(lambda text=text: check(text, person))
        number, _ = timer.autorange()
        runs.append(min(timer.repeat(repeat=5, number=number)) / number)
    median = statistics.median(runs)
    print(
        f"name guard: median {median * 1e6:.0f} µs per KB "
        f"({median / 1e-3:.2f} of the 1 ms budget), worst {max(runs) * 1e6:.0f} µs"
    )


if __name__ == "__main__":
    main()

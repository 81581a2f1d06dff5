"""Accuracy and speed of the language and spam enrichers, floors and candidates side by side.

    .venv/bin/python benchmarks/eval_spam_language.py            # everything
    .venv/bin/python benchmarks/eval_spam_language.py --only spam [--errors]

Language: accuracy on ``benchmarks/data/lang_short_posts.tsv`` (hand-written short social posts,
13 labels incl. ``und``) for every installed candidate detector, all behind the same cleaning
(handles, URLs, hashtags, digits stripped; < 2 letters left = ``und``), and posts/s on the 5,000
TWCS texts. Candidates other than the shipped one come from ``pip install -e '.[langeval]'``;
missing ones are skipped with a note.

Spam: F1/precision/recall of the spam class, the keyword floor beside ours, on the YouTube Spam
Collection files in ``../shared/data/youtube_spam``:

1. HELD OUT, leave one file out: the spam model (``fit_classifiers.fit_spam``) is refitted on the
   other files (+ TWCS even rows and airline fit rows as ham) and judged on the left-out file,
   as YouTube comments (``platform="youtube"``), and in customer-care mode (no platform; the
   model does not speak there, so it is the rules alone). The model's C and the probability at
   which it decides alone are chosen per fold by leave-one-file-out within the two training
   files (``choose_on_training``), never on the left-out file. The rules are hand-written, not
   fitted: rounds 1-2 read misses on Youtube01 (Psy) and Youtube02 (KatyPerry); round 3 (issue
   16: elongations, "our channel", filler dots) read Youtube01/02 misses and the issue's
   examples. ``--errors`` lists misses for Youtube01/02 only: Youtube03 (LMFAO) texts are never
   printed, so it stays the cleanest figure for the rules.
2. DEV, NOT HELD OUT: the shipped model (fitted on all three files) on the same files.
3. Customer care: share of TWCS posts flagged (no spam expected), on the odd rows that no model
   saw and on all rows, and posts/s on one core (CPU time).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import pandas as pd

from classifier_data import AIRLINE, DATA, ROOT, TWCS
from socialaudit.enrich import language as lang_mod
from socialaudit.enrich import spam as spam_mod

LANG_SET = ROOT / "benchmarks" / "data" / "lang_short_posts.tsv"

# The floor: a plain keyword rule, spam when the lowercased text contains any of these.
FLOOR_KEYWORDS = ("http", "www", ".com", "subscribe", "channel", "check out")


def floor_rule(text: str) -> bool:
    low = text.lower()
    return any(k in low for k in FLOOR_KEYWORDS)


def median_rate(fn: Callable[[], object], n: int, runs: int = 3) -> float:
    """Median posts/s on one core: CPU time of this single-threaded process.

    CPU time rather than wall time, because the machine is shared: other jobs' load would
    otherwise be measured as ours.
    """
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return n / max(statistics.median(times), 1e-9)


# ---------------------------------------------------------------- language


def _gated(detect_one: Callable[[str], str]) -> Callable[[Sequence[str]], list[str]]:
    """Wrap a one-text detector in the same cleaning and ``und`` gate as ours."""

    def run(posts: Sequence[str]) -> list[str]:
        out = []
        for p in posts:
            c = lang_mod.clean(p)
            out.append(detect_one(c) if lang_mod.has_language(c) else "und")
        return out

    return run


def candidates() -> dict[str, Callable[[Sequence[str]], list[str]]]:
    found: dict[str, Callable[[Sequence[str]], list[str]]] = {
        "fasttext lid.176.ftz (ours)": lambda posts: lang_mod.detect(posts)[0]
    }
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        found["py3langid"] = _gated(lambda t: ident.classify(t)[0])
    except ImportError:
        print("  (py3langid not installed: skipped)")
    try:
        import gcld3

        cld = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
        found["cld3 (cld3-py)"] = _gated(lambda t: cld.FindLanguage(text=t).language)
    except ImportError:
        print("  (cld3-py not installed: skipped)")
    try:
        from langdetect import DetectorFactory, LangDetectException
        from langdetect import detect as ld_detect

        DetectorFactory.seed = 0

        def one(t: str) -> str:
            try:
                return ld_detect(t).split("-")[0]
            except LangDetectException:
                return "und"

        found["langdetect"] = _gated(one)
    except ImportError:
        print("  (langdetect not installed: skipped)")
    try:
        from lingua import LanguageDetectorBuilder

        for mode in ("high", "low"):
            builder = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models()
            if mode == "low":
                builder = builder.with_low_accuracy_mode()
            det = builder.build()

            def lingua_run(posts: Sequence[str], det=det) -> list[str]:
                cleaned = [lang_mod.clean(p) for p in posts]
                keep = [i for i, c in enumerate(cleaned) if lang_mod.has_language(c)]
                got = det.detect_languages_in_parallel_of([cleaned[i] for i in keep])
                out = ["und"] * len(posts)
                for i, g in zip(keep, got, strict=True):
                    out[i] = g.iso_code_639_1.name.lower() if g is not None else "und"
                return out

            found[f"lingua ({mode} accuracy)"] = lingua_run
    except ImportError:
        print("  (lingua-language-detector not installed: skipped)")
    return found


def eval_language() -> None:
    with LANG_SET.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    gold = [r["lang"] for r in rows]
    posts = [r["text"] for r in rows]
    langs = sorted(set(gold))
    speed_posts = (
        pd.read_csv(TWCS, lineterminator="\n")["text"].fillna("").tolist()
        if TWCS.exists()
        else posts * 15
    )
    print(
        f"\nLanguage: {len(rows)} hand-written short posts, {len(langs)} labels "
        f"({', '.join(langs)}); speed on {len(speed_posts):,} "
        f"{'TWCS texts' if TWCS.exists() else 'repeated set texts'}"
    )
    print(f"{'detector':<30}{'accuracy':>9}{'non-und acc':>12}{'posts/s':>10}{'x ours':>8}  misses")
    base = None
    for name, fn in candidates().items():
        fn(posts[:5])  # load models outside the timing
        pred = fn(posts)
        acc = sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold)
        real = [(p, g) for p, g in zip(pred, gold, strict=True) if g != "und"]
        acc_real = sum(p == g for p, g in real) / len(real)
        runs = 1 if name.startswith(("langdetect", "lingua (high")) else 3
        rate = median_rate(lambda fn=fn: fn(speed_posts), len(speed_posts), runs=runs)
        base = base or rate
        misses: dict[str, int] = {}
        for p, g in zip(pred, gold, strict=True):
            if p != g:
                misses[g] = misses.get(g, 0) + 1
        worst = ", ".join(f"{k}:{v}" for k, v in sorted(misses.items(), key=lambda kv: -kv[1])[:4])
        print(f"{name:<30}{acc:>9.3f}{acc_real:>12.3f}{rate:>10,.0f}{rate / base:>8.2f}  {worst}")


# ---------------------------------------------------------------- spam


def _prf(pred: Sequence[bool], gold: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return f1, prec, rec


def _row(name: str, rows: int, floor: tuple, ours: tuple, extra: str = "") -> None:
    print(
        f"{name:<26}{rows:>5}  {floor[0]:>8.3f} {floor[1]:>6.3f} {floor[2]:>6.3f}  "
        f"{ours[0]:>8.3f} {ours[1]:>6.3f} {ours[2]:>6.3f}{extra}"
    )


def _judge_with(
    model: object,
    posts: list[str],
    authors: list,
    platforms: list | None,
    model_min: float | None = None,
) -> list:
    """Our verdicts with ``model`` (and its bar ``model_min``) standing in for the shipped ones."""
    saved, saved_min = spam_mod.model, spam_mod._MODEL_MIN
    spam_mod.model = lambda: model  # type: ignore[assignment]
    if model_min is not None:
        spam_mod._MODEL_MIN = model_min
    try:
        return spam_mod.judge(posts, authors, None, platforms)
    finally:
        spam_mod.model = saved  # type: ignore[assignment]
        spam_mod._MODEL_MIN = saved_min


# The choices made per fold on the training files only: the model's regularisation and the
# probability at which the model alone calls a comment spam.
SPAM_CS = (1.0, 4.0, 16.0)
MODEL_MINS = (0.4, 0.5, 0.6, 0.7, 0.8)


def choose_on_training(
    train: Sequence[object], care: object, air_fit: list[str]
) -> tuple[float, float, float]:
    """(C, model bar, mean inner F1) chosen by leave-one-file-out *within* the training files.

    The left-out file of the outer fold is never read here, so its figure is a held-out one:
    nothing, not even a threshold, was chosen on it.
    """
    from fit_classifiers import fit_spam

    scores: dict[tuple[float, float], list[float]] = {}
    for c in SPAM_CS:
        for j, inner in enumerate(train):
            rest = [t for k, t in enumerate(train) if k != j]
            model = fit_spam(rest, care, air_fit, c=c)  # type: ignore[arg-type]
            gold = [lab == "spam" for lab in inner.labels]  # type: ignore[attr-defined]
            plat = ["youtube"] * len(gold)
            for bar in MODEL_MINS:
                got = _judge_with(model, inner.texts, inner.authors, plat, bar)  # type: ignore[attr-defined]
                scores.setdefault((c, bar), []).append(_prf([v.is_spam for v in got], gold)[0])
    (c, bar), f1s = max(scores.items(), key=lambda kv: (statistics.mean(kv[1]), -kv[0][0]))
    return c, bar, statistics.mean(f1s)


def eval_spam(show_errors: bool) -> None:
    """Floor and ours side by side: leave-one-file-out, then the shipped model on dev files."""
    from classifier_data import airline, twcs, youtube, youtube_files
    from fit_classifiers import fit_spam

    files = youtube_files()
    if not files or not TWCS.exists() or not AIRLINE.exists():
        print(f"\nSpam: {DATA} (youtube_spam, twcs, airline_sentiment) is absent: skipped")
        return
    sets = [youtube(p) for p in files]
    care = twcs()
    air, air_held = airline()
    air_fit = [t for t, h in zip(air.texts, air_held, strict=True) if not h]
    print(f"\nSpam floor = text contains any of {', '.join(FLOOR_KEYWORDS)} (case-insensitive)")
    print(
        "\n## Held out: leave one file out. The model is refitted on the OTHER comment files + "
        "TWCS even rows + airline fit rows\n(as ham) and judged on the left-out file. Its C and "
        "the probability at which it decides alone are chosen\nby leave-one-file-out within the "
        "two training files only (the left-out file is not read to choose them).\nThe rules "
        "are hand-written; they were written reading misses on Youtube01 and Youtube02 only\n"
        "(Youtube03 texts never read), so Youtube03 is the cleanest figure."
    )
    head = f"{'left-out file':<26}{'rows':>5}  {'floor F1':>8} {'P':>6} {'R':>6}  "
    print(head + f"{'ours F1':>8} {'P':>6} {'R':>6}  {'care-mode F1':>12}  chosen on training")
    held_cust = [
        not o and h for o, h in zip(care.is_org, care.held_out, strict=True)
    ]  # customers in the odd rows: never fitted on
    cust_posts = [t for t, k in zip(care.texts, held_cust, strict=True) if k]
    cust_auth = [a for a, k in zip(care.authors, held_cust, strict=True) if k]
    for i, part in enumerate(sets):
        train = [s for j, s in enumerate(sets) if j != i]
        c, bar, inner_f1 = choose_on_training(train, care, air_fit)
        model = fit_spam(train, care, air_fit, c=c)
        gold = [lab == "spam" for lab in part.labels]
        plat = ["youtube"] * len(part.texts)
        ours = _judge_with(model, part.texts, part.authors, plat, bar)
        care_mode = _judge_with(model, part.texts, part.authors, None, bar)
        tw = _judge_with(model, cust_posts, cust_auth, None, bar)
        _row(
            part.name,
            len(part.texts),
            _prf([floor_rule(t) for t in part.texts], gold),
            _prf([v.is_spam for v in ours], gold),
            f"  {_prf([v.is_spam for v in care_mode], gold)[0]:>12.3f}"
            f"  C={c:g}, bar={bar:g} (inner F1 {inner_f1:.3f});"
            f" TWCS held-out customers flagged: {sum(v.is_spam for v in tw)}/{len(tw)}",
        )
        if show_errors and part.name != "Youtube03-LMFAO":
            for t, v, g in zip(part.texts, ours, gold, strict=True):
                if v.is_spam != g:
                    print(f"    {'FN' if g else 'FP'} {v.score:.2f} {v.reasons} {t[:110]!r}")
    print(
        "\n## DEV (not held out): the shipped model, fitted on all three files, on the same "
        "files, judged as YouTube comments"
    )
    print(head + f"{'ours F1':>8} {'P':>6} {'R':>6}  {'ours posts/s':>12}")
    for part in sets:
        gold = [lab == "spam" for lab in part.labels]
        plat = ["youtube"] * len(part.texts)
        verdicts = spam_mod.judge(part.texts, part.authors, None, plat)
        rate = median_rate(
            lambda p=part, pl=plat: spam_mod.judge(p.texts, p.authors, None, pl),
            len(part.texts),
            runs=5,
        )
        _row(
            part.name,
            len(part.texts),
            _prf([floor_rule(t) for t in part.texts], gold),
            _prf([v.is_spam for v in verdicts], gold),
            f"  {rate:>12,.0f}",
        )
    eval_care(care, show_errors)


def eval_care(care: object, show_errors: bool) -> None:
    """False positives of the shipped model + rules on TWCS (customer care: no spam expected)."""
    posts, authors, is_org = care.texts, care.authors, care.is_org  # type: ignore[attr-defined]
    held = care.held_out  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    verdicts = spam_mod.judge(posts, authors, is_org)
    one = time.perf_counter() - t0
    rate = median_rate(lambda: spam_mod.judge(posts, authors, is_org), len(posts), runs=3)
    floor_rate = median_rate(lambda: [floor_rule(t) for t in posts], len(posts), runs=3)
    print(f"\nTWCS false positives (customer care, {len(posts):,} posts, no spam expected)")
    groups = (
        (
            "customers, odd rows (held out)",
            [not o and h for o, h in zip(is_org, held, strict=True)],
        ),
        ("customers, all", [not o for o in is_org]),
        ("brands, all", is_org),
    )
    for who, mask in groups:
        n = sum(mask)
        fl = sum(floor_rule(t) for t, m in zip(posts, mask, strict=True) if m)
        us = sum(v.is_spam for v, m in zip(verdicts, mask, strict=True) if m)
        print(f"  {who:<31} n={n:>5}  floor {fl / n:6.2%} ({fl})   ours {us / n:6.2%} ({us})")
    print(
        f"  speed: ours {rate:,.0f} posts/s (first run {len(posts) / one:,.0f}), "
        f"floor {floor_rate:,.0f} posts/s"
    )
    if show_errors:
        for t, v in zip(posts, verdicts, strict=True):
            if v.is_spam:
                print(f"    FP {v.score:.2f} {v.reasons} {t[:110]!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("spam", "language"))
    parser.add_argument("--errors", action="store_true", help="list every misclassified post")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"{DATA} is absent: the real data sets are needed; nothing to measure")
    if args.only in (None, "language"):
        eval_language()
    if args.only in (None, "spam") and DATA.exists():
        eval_spam(args.errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make eval`: score the claim extractor on the seeds and on the dev set of ../shared/eval.

Builds one warehouse per set and parse mode by running the real pipeline (`python -m
assets.run` with SALVO_SEEDS_DIR and SALVO_WAREHOUSE pointed at a scratch folder under
warehouse/eval/<mode>/, SALVO_PARSE=<mode>; both modes by default, or --parse MODE), runs
`score_claims.py` on each (the dev set with --all-files), says whether the modes found the
same claims, and adds for the first mode the breakdowns the scorer does not print: F1 per
relation and per weapon class, and with --errors the misses, false positives and negated
rows with the rule that made each predicted row. The matching
rules are the scorer's own (imported from ../shared at run time, never copied).

Not part of the shipped package: it needs ../shared (or SALVO_SHARED / --shared), which the
tests never do.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType

import duckdb

from pipeline.settings import PARSE_MODES

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("eval/score_claims.py", "eval/seeds_gold.jsonl", "eval/dev/gold.jsonl")


def fail(message: str) -> None:
    print(f"make eval: {message}", file=sys.stderr)
    raise SystemExit(2)


def load_scorer(shared: Path) -> ModuleType:
    missing = [name for name in NEEDED if not (shared / name).is_file()]
    if not shared.is_dir() or missing:
        what = "the folder itself" if not shared.is_dir() else ", ".join(missing)
        fail(
            f"the evaluation set is missing at {shared} ({what}).\n"
            "  It needs ../shared/eval/score_claims.py, ../shared/eval/seeds_gold.jsonl and\n"
            "  ../shared/eval/dev/ (articles, manifest.csv, gold.jsonl) next to the repo;\n"
            "  point SHARED=<folder> (make) or --shared <folder> at another copy."
        )
    spec = importlib.util.spec_from_file_location("score_claims", shared / "eval/score_claims.py")
    if spec is None or spec.loader is None:
        fail(f"cannot import {shared / 'eval/score_claims.py'}")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def build(name: str, seeds: Path, out: Path, parse: str) -> Path:
    """Run the real pipeline on `seeds` into a fresh warehouse under `out`, parsing with
    SALVO_PARSE=`parse`."""
    target = out / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    path = target / "salvo.duckdb"
    env = dict(os.environ, SALVO_SEEDS_DIR=str(seeds), SALVO_WAREHOUSE=str(path), SALVO_PARSE=parse)
    env.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    if not (Path(env["DAGSTER_HOME"]) / "dagster.yaml").exists():
        shutil.copy(ROOT / "dagster-instance.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "assets.run"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0 or not path.exists():
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        fail(f"the pipeline failed on the {name} set, SALVO_PARSE={parse} (exit {done.returncode})")
    return path


def dev_seeds(dev: Path, out: Path) -> Path:
    """The dev articles and their manifest, copied into a scratch seeds folder."""
    folder = out / "dev_seeds"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for path in sorted(dev.glob("*.txt")):
        shutil.copy(path, folder / path.name)
    shutil.copy(dev / "manifest.csv", folder / "manifest.csv")
    return folder


def read_gold(sc: ModuleType, path: Path) -> list[dict]:
    import json

    gold = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            g = json.loads(line)
            g["triple"] = (
                sc.code(g["supplier"]),
                sc.code(g["recipient"]),
                (g["weapon"] or "").lower() or None,
            )
            gold.append(g)
    return gold


def rules_of(warehouse: Path, sc: ModuleType) -> dict[tuple, str]:
    """(file, sentence, triple) -> the rule(s) that made the predicted row."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT d.source_file, s.text, c.supplier, c.recipient, c.weapon_class, c.rule "
            "FROM claims c JOIN documents d USING (doc_id) "
            "LEFT JOIN sentences s ON s.sentence_id = c.sentence_id"
        ).fetchall()
    finally:
        con.close()
    out: dict[tuple, set[str]] = defaultdict(set)
    for source_file, sentence, supplier, recipient, weapon, rule in rows:
        triple = (sc.code(supplier), sc.code(recipient), (weapon or "").lower() or None)
        out[(Path(source_file).name, sc.norm(sentence or ""), triple)].add(rule or "?")
    return {k: "|".join(sorted(v)) for k, v in out.items()}


def score(sc: ModuleType, warehouse: Path, gold_path: Path, all_files: bool, errors: bool):
    """The scorer's matching (same keys, same greedy order, same overlap test), kept with
    enough detail for the breakdowns."""
    gold = read_gold(sc, gold_path)
    gold_files = {g["file"] for g in gold}
    preds = sc.load_predictions(str(warehouse))
    if not all_files:
        preds = [p for p in preds if p["file"] in gold_files]
    denied = [p for p in preds if p["negated"]]
    preds = [p for p in preds if not p["negated"]]

    def key(x):
        return (x["file"], sc.norm(x["sentence"]), x["triple"])

    gold_u = list({key(g): g for g in gold}.values())
    pred_u = list({key(p): p for p in preds}.values())
    matched: set[int] = set()
    pairs = []
    for g in gold_u:
        for i, p in enumerate(pred_u):
            if i in matched or p["file"] != g["file"] or p["triple"] != g["triple"]:
                continue
            if sc.overlaps(g["sentence"], p["sentence"]):
                matched.add(i)
                pairs.append((g, p))
                break
    matched_gold = {id(g) for g, _ in pairs}
    result = {"pairs": pairs, "gold": gold_u, "pred": pred_u, "denied": denied}

    def breakdown(label: str, of_gold, of_pred) -> None:
        n_gold: Counter[str] = Counter(of_gold(g) for g in gold_u)
        n_pred: Counter[str] = Counter(of_pred(p) for p in pred_u)
        tp_gold: Counter[str] = Counter(of_gold(g) for g, _ in pairs)
        tp_pred: Counter[str] = Counter(of_pred(p) for _, p in pairs)
        print(f"  F1 by {label}:")
        for name in sorted(set(n_gold) | set(n_pred), key=lambda n: (-n_gold[n], n)):
            p = tp_pred[name] / n_pred[name] if n_pred[name] else 0.0
            r = tp_gold[name] / n_gold[name] if n_gold[name] else 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            print(
                f"    {name:22s} gold {n_gold[name]:3d}  pred {n_pred[name]:3d}  "
                f"P {p:.2f}  R {r:.2f}  F1 {f:.2f}"
            )

    breakdown("relation", lambda g: g["relation"] or "-", lambda p: p["relation"] or "-")
    breakdown("weapon class", lambda g: g["triple"][2] or "-", lambda p: p["triple"][2] or "-")
    if errors:
        rules = rules_of(warehouse, sc)

        def rule(p) -> str:
            return rules.get(key(p), "?")

        by_rule: Counter[str] = Counter()
        ok_rule: Counter[str] = Counter()
        for i, p in enumerate(pred_u):
            by_rule[rule(p)] += 1
            ok_rule[rule(p)] += i in matched
        print("  predicted rows by rule (right / all):")
        for name, n in by_rule.most_common():
            print(f"    {name:32s} {ok_rule[name]:3d} / {n:3d}")
        print("\n  missed (gold without a match):")
        for g in gold_u:
            if id(g) not in matched_gold:
                print(f"    {g['file']}: {g['triple']} {g['relation']} :: {g['sentence'][:150]}")
        print("\n  false positives (predicted without a match) [rule]:")
        for i, p in enumerate(pred_u):
            if i not in matched:
                print(
                    f"    {p['file']}: {p['triple']} {p['relation']} [{rule(p)}] :: "
                    f"{p['sentence'][:150]}"
                )
        print("\n  matched with a wrong attribute (attributed_to / hedged / quantity):")
        for g, p in pairs:
            wrong = []
            if not sc.same_speaker(g["attributed_to"], p["attributed_to"]):
                wrong.append(f"attributed_to {p['attributed_to']!r} != {g['attributed_to']!r}")
            if bool(g["hedged"]) != bool(p["hedged"]):
                wrong.append(f"hedged {p['hedged']} != {g['hedged']}")
            if not sc.same_quantity(g["quantity"], p["quantity"]):
                wrong.append(f"quantity {p['quantity']} != {g['quantity']}")
            if wrong:
                print(f"    {g['file']}: {g['triple']} {'; '.join(wrong)} :: {g['sentence'][:110]}")
        print("\n  negated rows (not scored) [rule]:")
        for p in denied:
            where = f"{p['file']}: {p['triple']} {p['relation']} [{rule(p)}]"
            print(f"    {where} :: {p['sentence'][:140]}")
    return result


def official(shared: Path, warehouse: Path, gold: Path, all_files: bool) -> None:
    args = [sys.executable, str(shared / "eval/score_claims.py"), "--warehouse", str(warehouse)]
    args += ["--gold", str(gold)] + (["--all-files"] if all_files else [])
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        fail("score_claims.py failed")
    for line in done.stdout.splitlines():
        print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shared", default=os.environ.get("SALVO_SHARED", str(ROOT.parent / "shared")))
    ap.add_argument("--out", default=str(ROOT / "warehouse" / "eval"))
    ap.add_argument(
        "--errors", action="store_true", help="list misses, false positives, negated rows"
    )
    ap.add_argument("--set", choices=("seeds", "dev", "both"), default="both")
    ap.add_argument("--no-build", action="store_true", help="score the warehouses already built")
    ap.add_argument(
        "--parse",
        default=",".join(PARSE_MODES),
        help="SALVO_PARSE modes to build and score, comma-separated (default: both); the "
        "breakdowns are printed for the first, and the claims of the modes are compared",
    )
    args = ap.parse_args(argv)
    modes = [m.strip() for m in args.parse.split(",") if m.strip()]
    if not modes or any(m not in PARSE_MODES for m in modes):
        fail(f"--parse takes {' and/or '.join(PARSE_MODES)}, comma-separated: {args.parse!r}")
    shared = Path(args.shared).resolve()
    sc = load_scorer(shared)
    out = Path(args.out).resolve()
    sets: list[tuple[str, Path | None, Path, bool]] = []
    if args.set in ("seeds", "both"):
        sets.append(("seeds", ROOT / "seeds", shared / "eval/seeds_gold.jsonl", False))
    if args.set in ("dev", "both"):
        dev = shared / "eval/dev"
        sets.append(("dev", None, dev / "gold.jsonl", True))
    for name, seeds, gold, all_files in sets:
        paths = {}
        for mode in modes:
            paths[mode] = out / mode / name / "salvo.duckdb"
            if not args.no_build:
                folder = seeds if seeds is not None else dev_seeds(shared / "eval/dev", out)
                paths[mode] = build(name, folder, out / mode, mode)
            elif not paths[mode].exists():
                fail(f"no {name} warehouse at {paths[mode]}: run without --no-build first")
        for mode in modes:
            what = f"{gold.relative_to(shared)}{', --all-files' if all_files else ''}"
            print(f"== {name}, SALVO_PARSE={mode} ({what})")
            official(shared, paths[mode], gold, all_files)
            if mode == modes[0]:
                score(sc, paths[mode], gold, all_files, args.errors)
        if len(modes) > 1:
            compare_modes(name, paths)
        print()
    return 0


def compare_modes(name: str, paths: dict[str, Path]) -> None:
    """Whether every mode found the same claims (with their sentences and attributes)."""
    found = {}
    for mode, path in paths.items():
        con = duckdb.connect(str(path), read_only=True)
        try:
            found[mode] = set(
                con.execute(
                    "SELECT d.source_file, s.text, c.relation, c.supplier, c.recipient, "
                    "c.weapon_class, c.quantity, c.attributed_to, c.hedged, c.negated "
                    "FROM claims c JOIN documents d USING (doc_id) "
                    "JOIN sentences s ON s.sentence_id = c.sentence_id"
                ).fetchall()
            )
        finally:
            con.close()
    first, *others = paths
    for other in others:
        only_first, only_other = found[first] - found[other], found[other] - found[first]
        if not only_first and not only_other:
            print(f"== {name}: the same {len(found[first])} claims with {first} and {other}")
            continue
        print(
            f"== {name}: claims differ: {len(only_first)} only with {first}, "
            f"{len(only_other)} only with {other}"
        )
        for mode, rows in ((first, only_first), (other, only_other)):
            for row in sorted(rows, key=repr)[:10]:
                print(f"    only {mode}: {Path(row[0]).name}: {row[2:6]} :: {row[1][:100]}")


if __name__ == "__main__":
    sys.exit(main())

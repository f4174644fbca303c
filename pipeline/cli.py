"""Command line: `python -m pipeline <command> --help` for each command.

Each command's help is its documentation, with examples. `main(argv)` is
called by tests in-process. Commands live in the modules that do the work;
this file only parses arguments.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .rules import RulesError, default_rules_dir, load_rules

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOLDEN = ROOT / "tests" / "golden"


def _rules(args):
    return load_rules(Path(args.rules) if args.rules else None)


def cmd_run(args) -> int:
    """Process articles into CSVs.

    examples:
      python -m pipeline run                        # corpus/ -> outputs/
      python -m pipeline run new/ more/a.txt --out today/
      python -m pipeline run --jobs 1               # one process
    """
    from .run import run
    rules = _rules(args)
    inputs = [Path(p) for p in args.inputs] or [ROOT / "corpus"]
    out = Path(args.out)
    summary = run(inputs, out, rules, n_jobs=args.jobs, progress=not args.quiet)
    if not args.no_report:
        from .report import write_report
        write_report(out, Path(args.gold) if args.gold else (DEFAULT_GOLDEN if DEFAULT_GOLDEN.is_dir() else None))
    print(summary.line(), file=sys.stderr)
    return 1 if summary.errors else 0


def cmd_eval(args) -> int:
    """Run the corpus and score it against the golden files.

    Precision, recall and F1 per kind (numbers matched on kind, value,
    value_max and unit; dates on value and value_max; orgs on text; as
    multisets per article), then the missed and unexpected rows.

    examples:
      python -m pipeline eval
      python -m pipeline eval --gold tests/golden --limit 20
    """
    import tempfile

    from .evaluate import load_golden, read_csv, report, score, table
    from .run import run
    rules = _rules(args)
    gold_dir = Path(args.gold)
    golden = load_golden(gold_dir)
    if not golden:
        print(f"error: no golden files (*.csv) in {gold_dir}", file=sys.stderr)
        return 2
    inputs = [Path(p) for p in args.inputs] or [ROOT / "corpus"]
    with tempfile.TemporaryDirectory() as tmp:
        run(inputs, Path(tmp), rules, n_jobs=args.jobs, progress=False)
        predicted: dict[str, list[dict]] = {}
        for r in read_csv(Path(tmp) / "extractions.csv"):
            predicted.setdefault(r["article"], []).append(r)
    s = score(golden, predicted)
    print(table(s))
    print(report(s, args.limit))
    return 0


def cmd_report(args) -> int:
    """Rebuild outputs/report.html from the CSVs of an earlier run (no extraction).

    examples:
      python -m pipeline report
      python -m pipeline report --out today/ --gold tests/golden
    """
    from .report import write_report
    out = Path(args.out)
    if not (out / "extractions.csv").exists():
        print(f"error: {out}/extractions.csv not found; run `python -m pipeline run --out {out}` first",
              file=sys.stderr)
        return 2
    path = write_report(out, Path(args.gold) if args.gold else (DEFAULT_GOLDEN if DEFAULT_GOLDEN.is_dir() else None))
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="examples:\n  python -m pipeline run\n  python -m pipeline eval\n"
                                       "  python -m pipeline run --help")
    p.add_argument("--rules", help=f"rules folder (default: $PIPELINE_RULES or {default_rules_dir()})")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help_):
        sp = sub.add_parser(name, help=help_, description=func.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        sp.set_defaults(func=func)
        return sp

    sp = add("run", cmd_run, "process articles into outputs/ (CSVs, clean texts, report.html)")
    sp.add_argument("inputs", nargs="*", metavar="INPUT", help="files or folders (recursive *.txt); default corpus/")
    sp.add_argument("--out", default=str(ROOT / "outputs"), help="output folder (default outputs/)")
    sp.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    sp.add_argument("--gold", help="golden folder for the report (default tests/golden)")
    sp.add_argument("--no-report", action="store_true", help="do not write report.html")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")

    sp = add("eval", cmd_eval, "score the corpus against the golden files")
    sp.add_argument("inputs", nargs="*", metavar="INPUT", help="files or folders; default corpus/")
    sp.add_argument("--gold", default=str(DEFAULT_GOLDEN), help="golden folder (default tests/golden)")
    sp.add_argument("--limit", type=int, default=None, help="list at most N missed/unexpected rows")
    sp.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")

    sp = add("report", cmd_report, "rebuild report.html from existing CSVs")
    sp.add_argument("--out", default=str(ROOT / "outputs"), help="folder with the CSVs (default outputs/)")
    sp.add_argument("--gold", help="golden folder (default tests/golden)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except RulesError as e:
        print(f"error: the rules do not load:\n{e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; outputs/ keeps the previous run's files", file=sys.stderr)
        return 130

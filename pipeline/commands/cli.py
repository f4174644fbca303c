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

from ..outputs import KINDS, CsvReadError
from ..rules import RulesError, default_rules_dir, load_rules
from ..run.errors import RunError
from ..stages.read import MAX_FILE_MB

ROOT = Path(__file__).resolve().parents[2]   # the checkout: corpus/, outputs/, tests/golden
DEFAULT_GOLDEN = ROOT / "tests" / "golden"
# One option for the golden folder in every command; --golden-dir is kept as its other spelling.
GOLD_HELP = "golden folder (default tests/golden; --golden-dir is the same option)"


def _rules(args, cached: bool = True):
    """The rules of --rules (default: the default rules), from the per-user cache when unchanged
    (rules.load_rules); check-rules loads them afresh."""
    return load_rules(Path(args.rules) if args.rules else None, cached=cached)


def _inputs(args) -> list[Path]:
    """The INPUT arguments (default corpus/), refused with RunError when one is missing or an empty folder."""
    from ..run.inputs import find_inputs
    from ..run.runner import refuse_bad_inputs
    inputs = [Path(p) for p in args.inputs] or [ROOT / "corpus"]
    refuse_bad_inputs(find_inputs(inputs), writing=False)
    return inputs


def cmd_run(args) -> int:
    """Process articles into CSVs.

    examples:
      python -m pipeline run                        # corpus/ -> outputs/
      python -m pipeline run new/ more/a.txt --out today/
      python -m pipeline run --jobs 1               # one process
      python -m pipeline run archive/ --force       # ignore outputs/.cache/, recompute all
      python -m pipeline run archive/ --engine dask --scheduler tcp://10.0.0.5:8786
      python -m pipeline run big/ --max-file-mb 200     # accept article files up to 200 MB

    Articles whose bytes, rules and code are unchanged since the last run into
    the same --out are taken from --out/.cache/ (same output, no recomputation).

    The run refuses, writing nothing, when an input does not exist or an input
    folder holds no *.txt file (use --allow-empty if that is meant), when another
    run is writing the same --out, or when --out cannot be written (an unchanged
    re-run into a read-only --out still succeeds: it writes nothing).

    exit status: 0 every file was read; 1 some were not (their rows in
    articles.csv say why); 2 the run was refused or stopped (the message says
    why; the previous outputs are kept); 130 interrupted.
    """
    from ..run import run
    rules = _rules(args)
    inputs = [Path(p) for p in args.inputs] or [ROOT / "corpus"]
    out = Path(args.out)
    if args.scheduler and args.engine != "dask":
        print("error: --scheduler needs --engine dask", file=sys.stderr)
        return 2
    summary = run(inputs, out, rules, n_jobs=args.jobs, progress=not args.quiet, engine=args.engine,
                  scheduler=args.scheduler, cache=not args.no_cache, force=args.force,
                  allow_empty=args.allow_empty, max_file_mb=args.max_file_mb)
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.no_report:
        report_step(out, _gold_for_report(args), rules, summary.unchanged)  # a failure is said; the CSVs stand
    print(summary.line(), file=sys.stderr)
    return 1 if summary.errors else 0


def _gold_for_report(args) -> Path | None:
    """The golden folder the page compares with: --gold, else tests/golden when there is one."""
    return Path(args.gold) if args.gold else (DEFAULT_GOLDEN if DEFAULT_GOLDEN.is_dir() else None)


def report_step(out: Path, gold: Path | None, rules, unchanged: bool = False) -> bool:
    """report.html, its data folder and leftovers.csv in out; kept when built from the same sources
    (an unchanged re-run). False, with a message, when an output or golden CSV cannot be read."""
    from ..outputs import CsvReadError
    from .report import report_is_current, write_report
    try:
        if not (unchanged and report_is_current(out, gold, rules)):
            write_report(out, gold, rules=rules)
    except CsvReadError as e:
        print(f"error: report.html not built: {e}", file=sys.stderr)
        return False
    return True


def cmd_eval(args) -> int:
    """Run the corpus (or the INPUTs) and score its articles against their golden files.

    Only the articles given are scored (those without a golden file are
    listed as not scored); golden files of other articles are left out.

    Precision, recall and F1 per kind (numbers matched on kind, value,
    value_max and unit; dates on value and value_max; orgs on text; as
    multisets per article), then the context of the matched figures per
    field (share right, share of filled fields wrong), then the missed,
    unexpected and differing rows.

    examples:
      python -m pipeline eval
      python -m pipeline eval --gold tests/golden --limit 20
      python -m pipeline eval corpus/dev01.txt corpus/dev02.txt
    """
    import tempfile

    from ..outputs import read_csv
    from ..run import run
    from .evaluate import context_table, load_golden, report, score, scored_articles, table
    rules = _rules(args)
    inputs = _inputs(args)
    gold_dir = Path(args.gold)
    golden = load_golden(gold_dir)
    if not golden:
        print(f"error: no golden files (*.csv) in {gold_dir}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        run(inputs, Path(tmp), rules, n_jobs=args.jobs, progress=False)
        given = [r["article"] for r in read_csv(Path(tmp) / "articles.csv")]
        predicted: dict[str, list[dict]] = {}
        for r in read_csv(Path(tmp) / "extractions.csv"):
            predicted.setdefault(r["article"], []).append(r)
    scored, unscored = scored_articles(given, golden)
    if not scored:
        print(f"error: none of the {len(given)} article(s) given has a golden file in {gold_dir} "
              f"(a golden file is <article id>.csv: {', '.join(given[:3])}...)", file=sys.stderr)
        return 2
    if unscored:
        print(f"not scored, no golden file in {gold_dir}: {', '.join(unscored[:10])}"
              + (f" and {len(unscored) - 10} more" if len(unscored) > 10 else ""))
    s = score({aid: golden[aid] for aid in scored}, predicted)
    print(f"{len(scored)} article(s) scored")
    print(table(s))
    print(context_table(s))
    print(report(s, args.limit))
    return 0


def cmd_report(args) -> int:
    """Rebuild outputs/report.html (with report-data/) and leftovers.csv from an earlier run (no extraction).

    The page compares with the golden files of --gold (default tests/golden);
    review there, export verdicts.csv, then `golden accept --verdicts verdicts.csv`.

    examples:
      python -m pipeline report
      python -m pipeline report --out today/ --gold tests/golden
    """
    out = Path(args.out)
    if not (out / "extractions.csv").exists():
        print(f"error: {out}/extractions.csv not found; run `python -m pipeline run --out {out}` first",
              file=sys.stderr)
        return 2
    if not report_step(out, _gold_for_report(args), _rules(args)):
        return 2
    print(out / "report.html")
    return 0


def cmd_export(args) -> int:
    """Write the tables of an earlier run as an Excel workbook (no extraction).

    One sheet per kind (amount, count, percent, quantity, date, org) plus
    articles: the tables of `pipeline.load`, numbers as numbers, calendar
    days as dates, the header row frozen with filters on. Needs openpyxl:
    pip install -e '.[xlsx]'.

    examples:
      python -m pipeline export --xlsx outputs/facts.xlsx
      python -m pipeline export --out today/ --xlsx today/facts.xlsx
    """
    from ..outputs import CsvReadError
    from ..tables import TablesError
    from .export import ExportError, write_xlsx
    try:
        path = write_xlsx(Path(args.out), Path(args.xlsx))
    except (ExportError, TablesError, CsvReadError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(path)
    return 0


def cmd_check_rules(args) -> int:
    """Validate the rules and run every example, negative and known failure through the whole pipeline.

    An example passes when the final rows of its text hold a row of its rule
    with text `match` and the fields it gives; a negative when its rule makes
    no row there; a known failure must still fail (one that passes is an
    error: move it to examples). Rules without examples are errors, rules
    without negatives a warning. Exit 1 on any failure; 2 when the rules do
    not load (each problem as `file:line: ...`) or a FILE is not found.

    examples:
      python -m pipeline check-rules
      python -m pipeline check-rules rules/amount.toml
      python -m pipeline check-rules --rule amount.number --rule amount.range
    """
    from .checkrules import check_command
    text, code = check_command(_rules(args, cached=False), args.files, args.rule)
    print(text)
    return code


def cmd_explain(args) -> int:
    """Show how one text goes through the pipeline, and why each mention is (not) extracted.

    Prints the cleaned Simplified text, the cleaning edits, the conversions,
    the jieba tokens, every candidate with its rule, span and fields (kept, or
    lost to which winner and why), the candidates rejected by interpretation
    and the final rows.

    examples:
      python -m pipeline explain "总投资5000万卢比"
      python -m pipeline explain --file corpus/dev01.txt --rule amount
    """
    from .explain import explain_command
    text, code = explain_command(_rules(args), args.text, args.file, args.rule)
    print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def cmd_diff(args) -> int:
    """Run the corpus with the current rules; show rows added, removed and changed.

    Against the golden files (default; their rows have no rule, so they are
    grouped under "(golden)") or against the extractions.csv of an earlier
    run's folder. Per article and rule id, then a summary per kind.

    examples:
      python -m pipeline diff
      python -m pipeline run --out before/     # before editing the rules, then after:
      python -m pipeline diff --against before/
      python -m pipeline diff corpus/dev01.txt --gold tests/golden
    """
    from .diff import diff_command
    text, code = diff_command(_rules(args), _inputs(args), args.against, Path(args.gold))
    print(text)
    return code


def cmd_stats(args) -> int:
    """Per rule over the corpus: hits, candidates lost in overlaps, candidates rejected, examples, negatives.

    Rules that never fire are listed next; last, the leftover numbers (numbers
    no row covers) counted by the word that follows them, e.g. `倍` ×12: the
    shapes no rule takes, worth a rule or excluded on purpose (SPEC). Then
    the context of the figures: each field's fill count, by rule or list,
    and the commonest indicators and entities.

    examples:
      python -m pipeline stats
      python -m pipeline stats new_articles/
    """
    from .leftovers import WordCounts, format_table
    from .stats import ContextStats, collect, format_stats
    rules = _rules(args)
    left = WordCounts.empty()
    ctx = ContextStats()
    print(format_stats(rules, *collect(_inputs(args), rules, left, ctx)))
    print(ctx.format())
    print("\n" + format_table(left))
    return 0


def cmd_golden(args) -> int:
    """Golden files, tests/golden/<article>.csv: the expected rows of each corpus article.

    examples:
      python -m pipeline golden accept dev01      # current output of dev01 becomes its golden file
      python -m pipeline golden accept --verdicts verdicts.csv   # the verdicts of a review on report.html
      python -m pipeline golden accept --help
    """
    return cmd_golden_accept(args)


def cmd_golden_accept(args) -> int:
    """Write tests/golden/<article>.csv from checked rows; print what changed (+ added, - removed, ~ changed).

    From the pipeline's current rows (a fresh run, or --from an earlier run's
    outputs): review the diff first (`python -m pipeline diff`), accepting makes
    the current output the expected one; --kind replaces only that kind's rows.
    From a review (--verdicts, the file the review page report.html exports):
    rows marked right are kept, rows marked wrong dropped, mentions the reviewer
    added get the value their kind's rules give exactly that text (or, where no
    rule reads it, the reviewer's value, listed to complete by hand); golden rows
    the verdicts do not mention stay.

    A golden file edited by hand since accept last wrote it (its digest is in
    <gold>/.accepted.sha256) is not overwritten without --force; --dry-run
    shows the changes and writes nothing.

    examples:
      python -m pipeline golden accept dev01 dev02
      python -m pipeline golden accept corpus/dev01.txt --dry-run
      python -m pipeline golden accept dev01 --from outputs/ --kind amount
      python -m pipeline golden accept --verdicts ~/Downloads/verdicts.csv --from outputs/
      python -m pipeline golden accept --verdicts verdicts.csv dev03     # only dev03's verdicts
    """
    from .golden import accept, accept_verdicts
    gold = Path(args.gold)
    from_dir = Path(args.from_dir) if args.from_dir else None
    if args.verdicts:
        if args.kind:
            print("error: --kind is for accepting current rows; a verdicts file says row by row", file=sys.stderr)
            return 2
        lines, ok = accept_verdicts(Path(args.verdicts), _rules(args), gold, args.articles, from_dir,
                                    args.dry_run, args.force)
    elif not args.articles:
        print("error: name the articles to accept (e.g. dev01), or give --verdicts FILE", file=sys.stderr)
        return 2
    else:
        lines, ok = accept(args.articles, [Path(args.corpus)], _rules(args), gold, from_dir, args.kind,
                           args.dry_run, args.force)
    print("\n".join(lines), file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


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
    sp.add_argument("--gold", "--golden-dir", dest="gold",
                    help="golden folder the report compares with (default tests/golden; --golden-dir is the same)")
    sp.add_argument("--no-report", action="store_true",
                    help="do not write report.html, report-data/ and leftovers.csv (the report step)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--force", action="store_true", help="recompute every article, ignoring the cache (it is refilled)")
    sp.add_argument("--no-cache", action="store_true", help="neither read nor write --out/.cache/")
    sp.add_argument("--allow-empty", action="store_true",
                    help="an input folder without any *.txt is no error: write empty outputs (and empty the cache)")
    sp.add_argument("--max-file-mb", type=_positive, default=None, metavar="MB",
                    help=f"largest article file read, in MB (default {MAX_FILE_MB}); a larger one is an error row")
    sp.add_argument("--engine", choices=("local", "dask"), default="local",
                    help="local: this machine (--jobs processes); dask: a Dask cluster (pip install -e '.[dask]')")
    sp.add_argument("--scheduler", metavar="ADDRESS",
                    help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default with --engine dask: a LocalCluster "
                         "of --jobs workers on this machine)")

    sp = add("eval", cmd_eval, "score the corpus against the golden files")
    sp.add_argument("inputs", nargs="*", metavar="INPUT", help="files or folders; default corpus/")
    sp.add_argument("--gold", "--golden-dir", dest="gold", default=str(DEFAULT_GOLDEN), help=GOLD_HELP)
    sp.add_argument("--limit", type=int, default=None, help="list at most N missed/unexpected rows")
    sp.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")

    sp = add("report", cmd_report, "rebuild report.html and leftovers.csv from existing CSVs")
    sp.add_argument("--out", default=str(ROOT / "outputs"), help="folder with the CSVs (default outputs/)")
    sp.add_argument("--gold", "--golden-dir", dest="gold", help=GOLD_HELP)

    sp = add("export", cmd_export, "write the tables of a run as an Excel workbook (--xlsx PATH)")
    sp.add_argument("--xlsx", required=True, metavar="PATH", help="the workbook to write, e.g. outputs/facts.xlsx")
    sp.add_argument("--out", default=str(ROOT / "outputs"), help="folder with the CSVs (default outputs/)")

    sp = add("check-rules", cmd_check_rules, "validate the rules and run their examples and negatives")
    sp.add_argument("files", nargs="*", metavar="FILE", help="only the rules of these files (e.g. rules/amount.toml)")
    sp.add_argument("--rule", action="append", default=[], metavar="ID", help="only this rule (repeatable)")

    sp = add("explain", cmd_explain, "show every stage, candidate and overlap decision for one text")
    sp.add_argument("text", nargs="?", help="the text (or use --file)")
    sp.add_argument("--file", help="an article file (any supported encoding)")
    sp.add_argument("--rule", default="", metavar="PREFIX",
                    help="only candidates of rules whose id starts so (all final rows are shown)")

    sp = add("diff", cmd_diff, "rows added/removed/changed on the corpus vs golden files or an earlier run")
    sp.add_argument("inputs", nargs="*", metavar="INPUT", help="files or folders; default corpus/")
    sp.add_argument("--against", default="golden", metavar="golden|DIR",
                    help="'golden' (default) or an outputs folder holding extractions.csv")
    sp.add_argument("--gold", "--golden-dir", dest="gold", default=str(DEFAULT_GOLDEN), help=GOLD_HELP)

    sp = add("stats", cmd_stats, "per-rule hits, overlap losses and rejections over the corpus")
    sp.add_argument("inputs", nargs="*", metavar="INPUT", help="files or folders; default corpus/")

    sp = add("golden", cmd_golden, "golden files: `golden accept ARTICLE...` or `golden accept --verdicts FILE`")
    gsub = sp.add_subparsers(dest="golden_command", required=True, metavar="ACTION")
    sp = gsub.add_parser("accept", help="write golden files from the current output",
                         description=cmd_golden_accept.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp.add_argument("articles", nargs="*", metavar="ARTICLE",
                    help="article ids (dev01) or their .txt paths; with --verdicts, only these articles' verdicts")
    sp.add_argument("--verdicts", metavar="FILE", help="a verdicts.csv exported by the review page (report.html)")
    sp.add_argument("--from", dest="from_dir", metavar="DIR",
                    help="take the rows from DIR/extractions.csv instead of a fresh run (with --verdicts: each "
                         "article's year from DIR/articles.csv, for relative dates)")
    sp.add_argument("--kind", action="append", choices=KINDS, metavar="KIND",
                    help="replace only the rows of this kind (repeatable); the golden rows of other kinds stay")
    sp.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    sp.add_argument("--force", action="store_true",
                    help="overwrite golden files edited by hand since accept last wrote them")
    sp.add_argument("--corpus", default=str(ROOT / "corpus"), help="where the articles are (default corpus/)")
    sp.add_argument("--gold", "--golden-dir", dest="gold", default=str(DEFAULT_GOLDEN), help=GOLD_HELP)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except RulesError as e:                   # refused, like any problem only the user can fix
        print(f"error: the rules do not load:\n{e}", file=sys.stderr)
        return 2
    except (RunError, CsvReadError) as e:     # what the user can fix: one line, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; outputs/ keeps the previous run's files", file=sys.stderr)
        return 130

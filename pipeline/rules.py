"""Load the tunable rules of `rules/`: settings, lists, the jieba dictionary, fragments,
rule files, boilerplate.

Everything a user tunes is data. `load_rules` reads it in those steps and
validates all of it, reporting problems as `RulesError` lines of the form
`file:line: [rule id] what is wrong`, never a traceback: bad TOML or UTF-8,
a setting of the wrong type or range, a list line of the wrong width or with
a value outside its column's vocabulary, an entry repeated with another
value, an unknown fragment, a regex that does not compile, a rule of the
wrong kind for its file, a named group no interpretation reads, a duplicate
id, an unknown or missing field, a file in a place nothing loads.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import regex

from .outputs import KINDS
from .stages import base_units, numbers, orgs
from .stages import context as context_stage
from .stages.boilerplate import BoilerplateRules, MetaRule
from .stages.values import GROUPS, REQUIRED_GROUPS

RULE_FILES = {k: f"{k}.toml" for k in KINDS}
# The files of rules/ that hold no [[rule]] tables. Every other *.toml there holds rules, each of
# the kind its id starts with (`amount.tenge`) or says (`kind = "amount"`).
SETTINGS_FILE = "settings.toml"
OTHER_FILES = ("fragments.toml", "boilerplate.toml", SETTINGS_FILE, orgs.SETTINGS_FILE, context_stage.CONTEXT_FILE)
RULE_FIELDS = {"id", "priority", "pattern", "note", "examples", "negatives", "known_failures", "unit",
               "qualifier", "category", "kind", "trigger", "interpret"}
# {NAME} in a pattern: a fragment reference (regex's own {m,n} never starts with a capital)
FRAGMENT_REF = regex.compile(r"\{([A-Z][A-Z0-9_]*)\}")
# A pattern referring to its own group: (?P=sep), (?(and)...), (?&name), (?P>name), \g<name>
GROUP_REFERENCE = regex.compile(r"\(\?P=(\w+)\)|\(\?\((\w+)\)|\(\?&(\w+)\)|\(\?P>(\w+)\)|\\g<(\w+)>")
# Each setting of settings.toml: (its [section], type, lowest, highest value).
SETTINGS = {"match_timeout": ("extract", float, 0.001, 3600.0), "timeout_chars": ("extract", int, 1000, 10**9),
            "before_trigger": ("extract", int, 0, 10_000), "after_trigger": ("extract", int, 0, 10_000),
            "year_pivot": ("values", int, 0, 100),
            "max_sentence": ("output", int, 50, 32_000), "sentence_context": ("output", int, 10, 10_000)}
# settings.toml [values]: the words a list column (or a rule field) of that name may hold.
VOCABULARIES = ("category", "qualifier", "date_qualifier")
# The header of a list file: `# columns: word category` names its columns.
COLUMNS_HEADER = regex.compile(r"#\s*columns:(.*)")
# Characters that are regex syntax: a list entry holding one was likely meant as a pattern (银行|公司).
REGEX_SYNTAX = regex.compile(r"[\\^$*+?{}\[\]|()]")
ISO_CODE = regex.compile(r"[A-Z]{3}")
# jieba's part-of-speech tags: lower-case letters (ns, nt, j)
DICT_TAG = regex.compile(r"[a-z]+")


def _package_rules() -> Path:
    """The rules shipped with the package: pipeline/default_rules/ once installed (`pip install .`
    puts rules/ there), else rules/ beside the package (a checkout, an editable install)."""
    here = Path(__file__).resolve().parent
    return here / "default_rules" if (here / "default_rules").is_dir() else here.parent / "rules"


# The default rules (settings a user's settings.toml lacks are taken from them).
PACKAGE_RULES = _package_rules()


def default_rules_dir() -> Path:
    """`$PIPELINE_RULES`, else the `rules/` folder beside the package."""
    env = os.environ.get("PIPELINE_RULES")
    return Path(env) if env else PACKAGE_RULES


class RulesError(Exception):
    """One or more problems in the rules; str() lists them one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Rule:
    id: str
    kind: str
    pattern: str            # as written, with {FRAGMENTS}
    regex: object           # compiled, fragments expanded
    priority: int
    file: str
    line: int
    note: str = ""
    unit: str = ""
    qualifier: str = ""
    category: str = ""
    examples: list = field(default_factory=list)
    negatives: list = field(default_factory=list)
    known_failures: list = field(default_factory=list)
    trigger: object = None  # compiled `trigger`: the rule is tried only near its matches (speed only)
    interpret: str = ""     # org rules: which interpreter reads a match (orgs.INTERPRETERS)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Rules:
    dir: Path
    rules: list[Rule]
    lists: dict[str, list[list[str]]]        # list name -> rows (columns split on whitespace)
    fragments: dict[str, str]                # expanded fragments
    boilerplate: BoilerplateRules
    digest: str                              # hash of every rules file, for caches
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)   # list name -> its `# columns:`
    settings: dict = field(default_factory=dict)                       # settings.toml, checked
    warnings: list[str] = field(default_factory=list)                  # what loads but looks wrong
    org: dict = field(default_factory=dict)  # the org lexicon (lists, org_settings.toml): orgs.build_lexicon
    context: object = None                   # stages.context.ContextRules, from context.toml

    @property
    def segment_words(self) -> tuple[str, ...]:
        """Names jieba must not cut through: the org gazetteer, anchors and heads (added to its dictionary)."""
        return tuple(sorted(set(self.words("org_gazetteer")) | set(self.words("org_anchor"))
                            | set(self.words("org_head"))))

    def by_id(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def mapping(self, name: str) -> dict[str, str]:
        """A two-column list as a dict (first column -> second)."""
        return {row[0]: (row[1] if len(row) > 1 else "") for row in self.lists.get(name, [])}

    def words(self, name: str) -> list[str]:
        return [row[0] for row in self.lists.get(name, [])]


def read_text(path: Path, problems: list[str] | None = None) -> str:
    """A rules file as text (UTF-8, BOM allowed); bytes that are not UTF-8 are a problem with their line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        problem = f"{path}:{line}: not UTF-8 (byte 0x{data[e.start]:02x}); re-save the file as UTF-8"
        if problems is None:
            raise RulesError([problem]) from None
        problems.append(problem)
        return data.decode("utf-8-sig", errors="replace")


@dataclass
class ListFile:
    """One list of rules/lists/: the columns its header declares, its entries and their lines."""
    columns: tuple[str, ...]
    rows: list[list[str]]
    lines: list[int]


def parse_list(text: str) -> ListFile:
    """A list file's text: `# columns: a b` (before the first entry), then one entry per line,
    columns split on whitespace, `#` comments."""
    columns: tuple[str, ...] = ()
    rows, lines = [], []
    for n, line in enumerate(text.splitlines(), 1):
        header = COLUMNS_HEADER.match(line.strip())
        if header and not columns and not rows:
            columns = tuple(header.group(1).split())
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append(line.split())
            lines.append(n)
    return ListFile(columns, rows, lines)


def read_list(path: Path, problems: list[str] | None = None) -> list[list[str]]:
    """Rows of a list file: one entry per line, columns split on whitespace, `#` comments."""
    return parse_list(read_text(path, problems)).rows


def _iso_code(value: str) -> str:
    return "" if ISO_CODE.fullmatch(value) else f"currency code {value!r} must be three capital letters (ISO 4217: USD)"


def _integer(value: str) -> str:
    return "" if regex.fullmatch(r"[-+]?[0-9]+", value) else f"{value!r} must be an integer (-1, 0, 1)"


# What a column of a given name may hold, beyond the vocabularies of settings.toml [values].
COLUMN_CHECKS = {"code": _iso_code, "offset": _integer}


def value_problem(column: str, value: str, first: bool, vocab: dict[str, tuple[str, ...]]) -> str:
    """What is wrong with one value of a list column ('' when nothing)."""
    if column in vocab and value not in vocab[column]:
        return f"unknown {column} {value!r} (settings.toml [values] {column}: {', '.join(vocab[column])})"
    if first and REGEX_SYNTAX.search(value):
        return (f"{value!r}: regex syntax ({REGEX_SYNTAX.search(value).group()}) in a list entry; entries are "
                f"literal words: write each variant on its own line")
    check = COLUMN_CHECKS.get(column)
    return check(value) if check else ""


def list_problems(path: Path, lst: ListFile, vocab: dict, warnings: list[str]) -> list[str]:
    """A list's problems: no `# columns:` header, a line of another width, a bad value, an entry
    repeated with another value (the same entry repeated is a warning)."""
    if not lst.columns:
        return [f"{path}:1: no `# columns: ...` header line saying what each line holds, e.g. "
                f"`# columns: word category`"]
    out, first = [], {}
    for row, n in zip(lst.rows, lst.lines):
        where = f"{path}:{n}"
        if len(row) != len(lst.columns):
            out.append(f"{where}: {' '.join(row)!r}: {len(row)} column(s) ({len(lst.columns)} expected: "
                       f"{' '.join(lst.columns)}); an entry cannot hold a space")
            continue
        out += [f"{where}: {p}" for p in (value_problem(c, v, i == 0, vocab)
                                         for i, (c, v) in enumerate(zip(lst.columns, row))) if p]
        if row[0] not in first:
            first[row[0]] = (n, row)
        elif first[row[0]][1] == row:
            warnings.append(f"{where}: {row[0]} repeated (same as line {first[row[0]][0]})")
        else:
            n0, row0 = first[row[0]]
            out.append(f"{where}: duplicate entry {row[0]} with {' '.join(row[1:])} (first at line {n0} with "
                       f"{' '.join(row0[1:])})")
    return out


def stray_files(rules_dir: Path) -> list[str]:
    """A problem for each rules-like file nothing loads (a list in a sub-folder of lists/, a rules
    file in a sub-folder, a list beside the rules files): it would be ignored silently."""
    out = []
    for p in sorted(rules_dir.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        where = p.parent.relative_to(rules_dir).as_posix()
        if p.suffix == ".txt" and where != "lists":
            out.append(f"{p}: not loaded: lists are the *.txt files directly in rules/lists/ "
                       f"(move it there, under a name of its own)")
        elif p.suffix == ".toml" and where != ".":
            out.append(f"{p}: not loaded: rules files are the *.toml files directly in rules/ (move it there)")
        elif p.suffix == ".dict" and p.relative_to(rules_dir).as_posix() != "jieba_user.dict":
            out.append(f"{p}: not loaded: the one jieba dictionary is rules/jieba_user.dict (add its lines there)")
    return out


def _load_lists(rules_dir: Path, vocab: dict, problems: list[str], warnings: list[str]) -> dict[str, ListFile]:
    """Every list of rules/lists/, validated."""
    lists = {}
    folder = rules_dir / "lists"
    for p in sorted(folder.glob("*.txt")):
        lists[p.stem] = parse_list(read_text(p, problems))
        problems += list_problems(p, lists[p.stem], vocab, warnings)
    units = [r for r in lists.get(base_units.LIST_NAME, ListFile((), [], [])).rows if len(r) == 3]
    problems += base_units.problems(units, str(folder / f"{base_units.LIST_NAME}.txt"))
    return lists


def _dictionary_problems(path: Path) -> list[str]:
    """jieba_user.dict: UTF-8, and lines `word [freq] [tag]` (jieba's own format)."""
    if not path.exists():
        return []
    problems: list[str] = []
    for n, line in enumerate(read_text(path, problems).splitlines(), 1):
        parts = line.split()
        if not parts or (len(parts) == 2 and (parts[1].isdigit() or DICT_TAG.fullmatch(parts[1]))) or \
                len(parts) == 1 or (len(parts) == 3 and parts[1].isdigit() and DICT_TAG.fullmatch(parts[2])):
            continue
        problems.append(f"{path}:{n}: {line.strip()!r}: a line is `word [freq] [tag]`, e.g. `兰州新区 5 ns`")
    return problems[:20]


def _alternation(words: list[str]) -> str:
    """A regex alternation of literal words, longest first so the longest wins."""
    uniq = sorted(set(words), key=lambda w: (-len(w), w))
    return "(?:" + "|".join(regex.escape(w) for w in uniq) + ")" if uniq else "(?!)"


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of needle in text (1 if absent)."""
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else 1


def _toml(path: Path, problems: list[str]) -> tuple[dict, str]:
    """Parse a TOML file: (data, text); a syntax error is a problem with its line, and data is empty."""
    text = read_text(path, problems)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        # tomllib says "(at line N, column M)" or "(at end of document)": keep it, put file:line first
        m = regex.search(r"line (\d+)", str(e))
        line = m.group(1) if m else (text.count("\n") + (not text.endswith("\n")) if "end of document" in str(e)
                                     else 1)
        problems.append(f"{path}:{line}: bad TOML: {e}")
        return {}, text


def _rule_lines(text: str, n: int) -> list[int] | None:
    """1-based line of each of the n `[[rule]]` tables' `id` (or header); None if the file has other forms."""
    lines = text.splitlines()
    heads = [i for i, line in enumerate(lines) if regex.match(r"\s*\[\[\s*rule\s*\]\]", line)]
    if len(heads) != n:
        return None
    out = []
    for k, h in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(lines)
        out.append(next((i + 1 for i in range(h, end) if regex.match(r"\s*id\s*=", lines[i])), h + 1))
    return out


def expand(pattern: str, fragments: dict[str, str], where: str, problems: list[str], _depth: int = 0) -> str:
    """Replace {NAME} by its fragment, recursively; unknown names are problems."""
    def sub(m):
        name = m.group(1)
        if name not in fragments:
            problems.append(f"{where}: unknown fragment {{{name}}} (known: see rules/fragments.toml and "
                            f"rules/lists/*.txt)")
            return "(?!)"
        if _depth > 10:
            problems.append(f"{where}: fragment {{{name}}} refers to itself")
            return "(?!)"
        return "(?:" + expand(fragments[name], fragments, where, problems, _depth + 1) + ")"
    return FRAGMENT_REF.sub(sub, pattern)


def load_rules(rules_dir: Path | None = None, cached: bool = False) -> Rules:
    """Load and validate everything under rules_dir; raise RulesError listing every problem.

    cached: take the Rules from the per-user cache when they were stored from the same rules
    folder by the same code (`rules_cache_key`), else load them and store them there; rules that
    do not load are never stored, so their problems are found again. Compiling the ~190
    patterns is most of a load (0.2 s a process); unpickling the stored Rules takes 0.01 s.
    """
    rules_dir = Path(rules_dir or default_rules_dir())
    if not rules_dir.is_dir():
        raise RulesError([f"{rules_dir}: rules folder not found (set --rules or PIPELINE_RULES)"])
    return _cached_load(rules_dir) if cached else _load(rules_dir)


# The per-user cache file of the last Rules loaded with cached=True: the key, a line end, the pickle.
# One file whatever the rules folder: a user tuning rules or running tests does not fill the folder.
RULES_CACHE_FILE = "rules.pickle"


def rules_cache_key(rules_dir: Path) -> str:
    """What a load of rules_dir depends on: the folder's path as given (and the working folder, for
    a relative one: the rules' file names are made from it), the name of every file in it at any
    depth (a file in the wrong place is a problem) and the bytes of those a load reads (*.toml,
    *.txt, *.dict), the package's default settings, the source of the loader, the output schema
    and the stages it builds on, and the versions of Python and regex (compiled patterns).
    Raises OSError when a file cannot be read."""
    h = hashlib.sha256()

    def add(name: str, data: bytes) -> None:
        h.update(name.encode("utf-8", "surrogateescape") + b"\0" + hashlib.sha256(data).digest())

    add(str(rules_dir), b"" if rules_dir.is_absolute() else os.getcwd().encode("utf-8", "surrogateescape"))
    for p in sorted(rules_dir.rglob("*")):
        if p.is_file():
            read = p.suffix in (".toml", ".txt", ".dict")
            add("rules/" + p.relative_to(rules_dir).as_posix(), p.read_bytes() if read else b"")
    defaults = PACKAGE_RULES / SETTINGS_FILE
    add("defaults", defaults.read_bytes() if defaults.is_file() else b"")
    pkg = Path(__file__).resolve().parent
    for p in [pkg / "rules.py", pkg / "outputs.py", *sorted((pkg / "stages").glob("*.py"))]:
        add("code/" + p.name, p.read_bytes())
    add("versions", f"{sys.version}|{regex.__version__}".encode())
    return h.hexdigest()


def _cached_load(rules_dir: Path) -> Rules:
    """load_rules with cached=True: the stored Rules when their key is this folder's, else a load,
    stored. Without a cache folder, or with a file that cannot be read, it is a plain load."""
    import pickle

    from .outputs import atomic_write
    from .usercache import user_cache_dir
    folder = user_cache_dir()
    try:
        key = rules_cache_key(rules_dir).encode() if folder is not None else None
    except OSError:             # a file that cannot be read: the load says what is wrong, if anything
        key = None
    if key is None:
        return _load(rules_dir)
    path = folder / RULES_CACHE_FILE
    try:
        stored_key, _, data = path.read_bytes().partition(b"\n")
        if stored_key == key:
            return pickle.loads(data)
    except Exception:           # missing, or damaged (a killed write cannot do that: atomic_write)
        pass
    rules = _load(rules_dir)
    try:
        atomic_write(path, key + b"\n" + pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL), durable=False)
    except OSError:
        pass
    return rules


def _load(rules_dir: Path) -> Rules:
    """load_rules of an existing folder, without the cache."""
    problems: list[str] = []
    warnings: list[str] = []
    settings = load_settings(rules_dir, problems)
    vocab = {k: settings[k] for k in VOCABULARIES if k in settings}
    lists = _load_lists(rules_dir, vocab, problems, warnings)
    problems += _dictionary_problems(rules_dir / "jieba_user.dict") + stray_files(rules_dir)
    fragments = _load_fragments(rules_dir / "fragments.toml", lists, problems)
    seen: dict[str, str] = {}
    rules = [rule for path, kind in rule_files(rules_dir)
             for rule in _load_rule_file(path, kind, fragments, vocab, seen, problems)]
    boiler = _load_boilerplate(rules_dir / "boilerplate.toml", problems, fragments, settings)
    rows = {name: lst.rows for name, lst in lists.items()}
    loaded = Rules(rules_dir, rules, rows, fragments, boiler,
                   _digest(rules_dir, settings), columns={name: lst.columns for name, lst in lists.items()},
                   settings=settings, warnings=warnings,
                   context=context_stage.load(rules_dir, rows, fragments, expand, problems))
    loaded.org = orgs.build_lexicon(rules_dir, loaded.lists, loaded.segment_words, problems)
    if problems:
        raise RulesError(problems)
    return loaded


def _digest(rules_dir: Path, settings: dict) -> str:
    """A hash of every rules file and of the settings in effect (some may come from the default
    rules folder), for caches."""
    digest = hashlib.sha256(repr(sorted(settings.items())).encode())
    for p in sorted(rules_dir.rglob("*")):
        if p.is_file() and p.suffix in (".toml", ".txt", ".dict"):
            digest.update(str(p.relative_to(rules_dir)).encode() + b"\0" + p.read_bytes())
    return digest.hexdigest()[:16]


def _key_line(text: str, key: str) -> int:
    """1-based line where `key =` is set (1 if not found)."""
    m = regex.search(rf"^[ \t]*{regex.escape(key)}[ \t]*=", text, regex.M)
    return text.count("\n", 0, m.start()) + 1 if m else 1


def setting_problem(key: str, value) -> str:
    """What is wrong with the value of a setting of SETTINGS ('' when nothing)."""
    _, typ, low, high = SETTINGS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float) if typ is float else int):
        return f"{key} = {value!r}: must be {'a number' if typ is float else 'an integer'}"
    if not low <= value <= high:
        return f"{key} = {value!r}: must be between {low} and {high}"
    return ""


def _settings_file(path: Path, problems: list[str]) -> dict:
    """The settings of one settings.toml, each checked; a bad or unknown one is a problem at its line."""
    data, text = _toml(path, problems)
    out = {}
    for section, table in data.items():
        for key, value in (table.items() if isinstance(table, dict) else [(section, table)]):
            where = f"{path}:{_key_line(text, key)}"
            if section == "values" and key in VOCABULARIES:   # lists of words
                if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                    problems.append(f"{where}: {key} must be a list of words, e.g. {key} = [\"a\", \"b\"]")
                    continue
                out[key] = tuple(value)
            elif key in SETTINGS and SETTINGS[key][0] == section:
                problem = setting_problem(key, value)
                if problem:
                    problems.append(f"{where}: {problem}")
                    continue
                out[key] = value
            else:
                known = ", ".join(f"[{s}] {k}" for k, (s, *_) in SETTINGS.items())
                problems.append(f"{where}: unknown setting {key!r} in [{section}] (known: {known}; "
                                f"[values] {', '.join(VOCABULARIES)})")
    return out


def load_settings(rules_dir: Path, problems: list[str]) -> dict:
    """settings.toml of rules_dir over the package's own (a setting it lacks keeps the default)."""
    settings: dict = {}
    for path in dict.fromkeys(p.resolve() for p in (PACKAGE_RULES / SETTINGS_FILE, rules_dir / SETTINGS_FILE)):
        if path.exists():
            settings.update(_settings_file(path, problems))
    missing = [k for k in (*SETTINGS, *VOCABULARIES) if k not in settings]
    if missing and not problems:
        problems.append(f"{rules_dir / SETTINGS_FILE}: missing setting(s) {', '.join(missing)}")
    return settings


def _load_fragments(path: Path, lists: dict[str, ListFile], problems: list[str]) -> dict[str, str]:
    """{NAME} -> regex: each list as an alternation of its first column, then fragments.toml, expanded."""
    fragments = dict(numbers.FRAGMENTS)        # the number grammar's own characters
    fragments.update({name.upper(): _alternation([r[0] for r in lst.rows]) for name, lst in lists.items()})
    if not path.exists():
        return fragments
    data, text = _toml(path, problems)
    raw: dict[str, str] = {}
    for name, pat in (data.get("fragment") or {}).items():
        if not isinstance(pat, str):
            problems.append(f"{path}:{_line_of(text, name + ' =')}: fragment {name} must be a string")
            continue
        if name in numbers.FRAGMENTS:
            problems.append(f"{path}:{_line_of(text, name + ' =')}: fragment {name} is the number grammar's "
                            f"(pipeline/stages/numbers.py FRAGMENTS); use it, do not redefine it")
            continue
        raw[name] = pat
    fragments.update(raw)
    expanded = {}
    for name, pat in raw.items():
        where = f"{path}:{_line_of(text, name + ' =')}: fragment {name}"
        expanded[name] = expand(pat, fragments, where, problems)
        try:
            regex.compile(expanded[name])
        except regex.error as e:
            problems.append(f"{where}: regex does not compile: {e}")
    fragments.update(expanded)
    return fragments


def rule_files(rules_dir: Path) -> list[tuple[Path, str | None]]:
    """Every rules file with the kind it holds: the kind files in KINDS order, then any other
    *.toml of the folder (kind None: each rule says its kind, by its id's prefix or `kind =`)."""
    out = [(rules_dir / RULE_FILES[k], k) for k in KINDS if (rules_dir / RULE_FILES[k]).exists()]
    known = {*RULE_FILES.values(), *OTHER_FILES}
    return out + [(p, None) for p in sorted(rules_dir.glob("*.toml")) if p.name not in known]


def _load_rule_file(path: Path, kind: str | None, fragments: dict[str, str], vocab: dict,
                    seen: dict[str, str], problems: list[str]) -> list[Rule]:
    """The [[rule]] tables of one file, each validated (seen: id -> where, across files)."""
    data, text = _toml(path, problems)
    entries = data.get("rule", []) or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.append(f"{path}:{_line_of(text, 'rule')}: rules must be [[rule]] tables")
        return []
    lines = _rule_lines(text, len(entries))
    out = []
    for i, entry in enumerate(entries):
        rid = entry.get("id")
        line = lines[i] if lines else (_line_of(text, f'id = "{rid}"') if rid else 1)
        if not rid:
            problems.append(f"{path}:{line}: rule #{i + 1} has no id")
            continue
        rule = _rule(entry, rid, kind, path, line, fragments, vocab, seen, problems)
        if rule is not None:
            out.append(rule)
    return out


def _rule_kind(entry: dict, rid: str, file_kind: str | None, path: Path, where: str) -> tuple[str | None, str]:
    """(the rule's kind, '') or (None, the problem): the file's kind, checked against the id's prefix
    and `kind =`; in another file, `kind =` or the id's prefix."""
    prefix = rid.split(".", 1)[0] if "." in rid else ""
    declared = entry.get("kind")
    if declared is not None and declared not in KINDS:
        return None, f"unknown kind {declared!r} (kinds: {', '.join(KINDS)})"
    if file_kind is not None and declared not in (None, file_kind):
        return None, f"kind {declared!r} in {path.name}"
    if file_kind is not None and prefix in KINDS and prefix != file_kind:
        return None, (f"a rule id of kind {prefix} in {path.name}, which holds {file_kind} rules: move it to "
                      f"{RULE_FILES[prefix]}, or name it {file_kind}.…")
    kind = file_kind or declared or (prefix if prefix in KINDS else None)
    if kind is None:
        return None, (f"of no kind: a rule of {path.name} has an id starting with its kind "
                      f"({', '.join(k + '.' for k in KINDS)}) or says it, e.g. kind = \"amount\"")
    if prefix in KINDS and prefix != kind:
        return None, f"id of kind {prefix} but kind = {declared!r}"
    return kind, ""


def _field_problems(entry: dict, vocab: dict) -> list[str]:
    """Problems with a rule's fields: unknown names, wrong types, a category or qualifier not in settings.toml."""
    out = []
    unknown = set(entry) - RULE_FIELDS
    if unknown:
        out.append(f"unknown field(s) {sorted(unknown)}")
    for key in ("examples", "negatives", "known_failures"):
        if not isinstance(entry.get(key, []), list):
            out.append(f"{key} must be an array, e.g. {key} = [ ... ]")
            entry[key] = []
    if not isinstance(entry.get("priority", 0), int):
        out.append("priority must be an integer")
        entry["priority"] = 0
    for key in ("category", "qualifier"):
        value = entry.get(key, "")
        if value and key in vocab and value not in vocab[key]:
            out.append(f"unknown {key} {value!r} (settings.toml [values] {key}: {', '.join(vocab[key])})")
    return out


def group_problem(compiled, full: str, kind: str) -> str:
    """What is wrong with a rule's named groups ('' when nothing): a group its kind's interpretation
    does not read and the pattern does not refer to (a misspelt name), a group the kind needs."""
    groups = set(compiled.groupindex)
    referred = {g for m in GROUP_REFERENCE.finditer(full) for g in m.groups() if g}
    read = GROUPS.get(kind, frozenset())
    parts = []
    unknown = sorted(groups - read - referred)
    if unknown:
        parts.append(f"group(s) {', '.join(unknown)} read by nothing (a misspelt name? {kind} rules' groups: "
                     f"{', '.join(sorted(read))})")
    missing = [g for g in REQUIRED_GROUPS.get(kind, ()) if g not in groups]
    if missing:
        parts.append(f"no group {', '.join(missing)}: every {kind} match needs it, e.g. (?P<num>{{NUM}})")
    return "; ".join(parts)


def _compile(pat, what: str, fragments: dict[str, str], where: str, problems: list[str]):
    """A rule's pattern or trigger, fragments expanded and compiled; None (a problem) when it cannot be."""
    try:
        if not isinstance(pat, str) or not pat:
            raise regex.error("must be a non-empty string")
        return regex.compile(expand(pat, fragments, where, problems))
    except regex.error as e:
        problems.append(f"{where} {what} does not compile: {e}")
        return None


def _rule(entry: dict, rid: str, file_kind: str | None, path: Path, line: int, fragments: dict[str, str],
          vocab: dict, seen: dict[str, str], problems: list[str]) -> Rule | None:
    """One [[rule]] table as a Rule, or None when it cannot be one (its problems added)."""
    where = f"{path}:{line}"
    tag = f"{where}: [{rid}]"
    problems += [f"{tag} {p}" for p in _field_problems(entry, vocab)]
    if rid in seen:
        problems.append(f"{tag} duplicate id (first at {seen[rid]})")
        return None
    seen[rid] = where
    kind, problem = _rule_kind(entry, rid, file_kind, path, where)
    if kind is None:
        problems.append(f"{tag} {problem}")
        return None
    if not isinstance(entry.get("pattern"), str) or not entry["pattern"]:
        problems.append(f"{tag} missing field 'pattern'")
        return None
    before = len(problems)
    compiled = _compile(entry["pattern"], "regex", fragments, tag, problems)
    if compiled is None:
        return None
    problem = group_problem(compiled, compiled.pattern, kind) if len(problems) == before else ""
    if problem:
        problems.append(f"{tag} {problem}")
    trigger = _compile(entry["trigger"], "trigger", fragments, tag, problems) \
        if "trigger" in entry else None
    how = entry.get("interpret", "")
    if kind == "org" and how not in orgs.INTERPRETERS:
        problems.append(f"{tag} interpret must be one of {', '.join(orgs.INTERPRETERS)} (got {how!r})")
    elif kind != "org" and how:
        problems.append(f"{tag} interpret is for org rules only")
    return Rule(id=rid, kind=kind, pattern=entry["pattern"], regex=compiled, priority=entry.get("priority", 0),
                file=str(path), line=line, note=entry.get("note", ""), unit=entry.get("unit", ""),
                qualifier=entry.get("qualifier", ""), category=entry.get("category", ""),
                examples=list(entry.get("examples", [])), negatives=list(entry.get("negatives", [])),
                known_failures=list(entry.get("known_failures", [])), trigger=trigger, interpret=how)


# boilerplate.toml: its tables and the fields of each (a misspelt one would be silently ignored).
_CASES = {"examples", "negatives"}
BOILERPLATE_FIELDS = {"line": {"id", "note", "pattern", "lines", *_CASES},
                      "tail": {"id", "note", "pattern", "cuts_rest", "source_pattern", *_CASES},
                      "field": {"id", "note", "pattern"},
                      "dateline": {"id", "note", "pattern", *_CASES},
                      "credit": {"id", "note", "pattern", *_CASES}}
BOILERPLATE_SIZES = {"tail_lines": 8, "head_lines": 8, "max_line_chars": 160, "max_title_chars": 64,
                     "split_line_chars": 24}
BOILERPLATE_KEYS = {*BOILERPLATE_SIZES, "fragment", *BOILERPLATE_FIELDS}


def boilerplate_problems(data: dict, text: str, path: Path) -> list[str]:
    """What is wrong with boilerplate.toml's shape: an unknown table or field, a missing id or
    pattern, a tail_lines, head_lines or max_line_chars that is not a small integer, a `lines` that
    is not a positive one."""
    out = [f"{path}:{_key_line(text, k)}: unknown key {k!r} (known: {', '.join(sorted(BOILERPLATE_KEYS))})"
           for k in data if k not in BOILERPLATE_KEYS]
    for key, default in BOILERPLATE_SIZES.items():
        n = data.get(key, default)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 1000:
            out.append(f"{path}:{_key_line(text, key)}: {key} = {n!r}: must be an integer, 0 to 1000")
    if not isinstance(data.get("fragment", {}), dict):
        out.append(f"{path}:{_line_of(text, 'fragment')}: fragment must be a [fragment] table")
    seen: set[str] = set()
    for section, fields in BOILERPLATE_FIELDS.items():
        entries = data.get(section, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            out.append(f"{path}:{_line_of(text, section)}: {section} must be [[{section}]] tables")
            continue
        for e in entries:
            where = f"{path}:{_line_of(text, str(e.get('id') or section))}: [{e.get('id', '')}] {section}"
            unknown = sorted(set(e) - fields)
            if unknown:
                out.append(f"{where}: unknown field(s) {unknown} (known: {', '.join(sorted(fields))})")
            if not e.get("id") or not isinstance(e.get("pattern"), str):
                out.append(f"{where}: needs an id and a pattern")
            elif e["id"] in seen:
                out.append(f"{where}: duplicate id")
            seen.add(str(e.get("id")))
            lines = e.get("lines", 1)
            if isinstance(lines, bool) or not isinstance(lines, int) or not 1 <= lines <= 10:
                out.append(f"{where}: lines = {lines!r}: must be an integer, 1 to 10")
            for key in _CASES & set(e):
                if not isinstance(e[key], list):
                    out.append(f"{where}: {key} must be an array, e.g. {key} = [ ... ]")
    return out


def _load_boilerplate(path: Path, problems: list[str], fragments: dict[str, str] | None = None,
                      settings: dict | None = None) -> BoilerplateRules:
    """The metadata patterns of boilerplate.toml, with its own [fragment] table (over the global ones)."""
    if not path.exists():
        return BoilerplateRules(8, settings=dict(settings or {}))
    data, text = _toml(path, problems)
    shape = boilerplate_problems(data, text, path)
    if shape:
        problems += shape
        return BoilerplateRules(8, settings=dict(settings or {}))
    frags = _boilerplate_fragments(data, text, path, fragments or {}, problems)
    out = {section: [_meta_rule(e, section, path, text, frags, problems) for e in data.get(section, []) or []]
           for section in BOILERPLATE_FIELDS}
    sizes = {key: data.get(key, default) for key, default in BOILERPLATE_SIZES.items()}
    return BoilerplateRules(sizes["tail_lines"], out["tail"], out["dateline"], out["line"], out["field"],
                            out["credit"], sizes["head_lines"], sizes["max_line_chars"], sizes["max_title_chars"],
                            sizes["split_line_chars"], settings=dict(settings or {}))


def _boilerplate_fragments(data: dict, text: str, path: Path, fragments: dict[str, str],
                           problems: list[str]) -> dict[str, str]:
    """The global fragments and boilerplate.toml's own [fragment] table, expanded."""
    frags = dict(fragments)
    local = {k: v for k, v in (data.get("fragment") or {}).items() if isinstance(v, str)}
    frags.update(local)
    for name, pat in local.items():
        frags[name] = expand(pat, frags, f"{path}:{_line_of(text, name + ' =')}: fragment {name}", problems)
    return frags


def _meta_rule(e: dict, section: str, path: Path, text: str, frags: dict[str, str],
               problems: list[str]) -> MetaRule:
    """One boilerplate rule, its patterns compiled (a pattern that does not compile is a problem)."""
    line = _line_of(text, f'id = "{e["id"]}"')
    where = f"{path}:{line}: [{e['id']}] {section}"

    def comp(key):
        pat = e.get(key)
        if pat is None:
            return None
        try:
            return regex.compile(expand(pat, frags, where, problems), regex.M)
        except regex.error as err:
            problems.append(f"{where} {key} does not compile: {err}")
            return regex.compile("(?!)")
    return MetaRule(e["id"], section, comp("pattern"), e.get("lines", 1), bool(e.get("cuts_rest")),
                    comp("source_pattern"), e.get("note", ""), list(e.get("examples", [])),
                    list(e.get("negatives", [])), [], str(path), line)

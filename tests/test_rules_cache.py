"""The loaded rules kept in the per-user cache (load_rules(cached=True), what the commands use):
the same Rules as a fresh load, a new load whenever anything the load reads changed, never a
stored copy of rules that do not load."""
import pickle
import shutil

import pytest

from pipeline.article import process_text
from pipeline.rules import RULES_CACHE_FILE, RulesError, load_rules, rules_cache_key
from tests.helpers import append

TEXT = "兰州新区管委会投资1.5亿元，同比增长12%。\n"


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    """A private per-user cache folder; the stored rules file in it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "cn-news-facts" / RULES_CACHE_FILE


def test_stored_rules_are_the_loaded_ones(rules_dir, xdg):
    """The first cached load stores the Rules; the second takes them from the file: same rows."""
    first = load_rules(rules_dir, cached=True)
    assert xdg.is_file()
    stored = load_rules(rules_dir, cached=True)
    fresh = load_rules(rules_dir)
    assert stored is not first
    assert [(r.id, r.pattern, r.regex.pattern, r.file, r.line) for r in stored.rules] == \
        [(r.id, r.pattern, r.regex.pattern, r.file, r.line) for r in fresh.rules]
    assert (stored.digest, stored.lists, stored.settings, stored.warnings, stored.dir) == \
        (fresh.digest, fresh.lists, fresh.settings, fresh.warnings, fresh.dir)
    assert process_text("x", TEXT, stored).rows == process_text("x", TEXT, fresh).rows


def test_a_changed_file_is_loaded_again(rules_dir, xdg):
    """Editing a list (or any file of the folder) changes the key: the new rules are loaded."""
    before = load_rules(rules_dir, cached=True)
    append(rules_dir / "lists" / "org_gazetteer.txt", "兰州测试新区管委会 government\n")
    after = load_rules(rules_dir, cached=True)
    assert "兰州测试新区管委会" in after.words("org_gazetteer")
    assert "兰州测试新区管委会" not in before.words("org_gazetteer")
    assert after.digest != before.digest


def test_rules_that_do_not_load_are_never_stored(rules_dir, xdg):
    """A stray file makes the load fail every time, though the same folder loaded before."""
    load_rules(rules_dir, cached=True)
    (rules_dir / "lists" / "sub").mkdir()
    shutil.copy(rules_dir / "lists" / "org_gazetteer.txt", rules_dir / "lists" / "sub" / "x.txt")
    for _ in range(2):
        with pytest.raises(RulesError, match="not loaded"):
            load_rules(rules_dir, cached=True)


def test_the_key_covers_the_path_and_every_file(rules_dir, tmp_path):
    """Another folder with the same files, a new file (of any kind): another key."""
    key = rules_cache_key(rules_dir)
    copy = tmp_path / "copy"
    shutil.copytree(rules_dir, copy)
    assert rules_cache_key(copy) != key
    (rules_dir / "notes.md").write_text("x", encoding="utf-8")
    assert rules_cache_key(rules_dir) != key
    key = rules_cache_key(rules_dir)
    (rules_dir / "notes.md").write_text("y", encoding="utf-8")     # a file no load reads: its name only
    assert rules_cache_key(rules_dir) == key
    (rules_dir / "lists" / "sub").mkdir()
    (rules_dir / "lists" / "sub" / "x.txt").write_text("# columns: word\n", encoding="utf-8")
    assert rules_cache_key(rules_dir) != key


def test_a_file_that_cannot_be_read_is_a_plain_load(rules_dir, xdg, monkeypatch):
    """When the key cannot be made (a file without read permission), the rules load without the cache."""
    import pipeline.rules as rules_module

    def unreadable(_):
        raise PermissionError("denied")
    monkeypatch.setattr(rules_module, "rules_cache_key", unreadable)
    assert load_rules(rules_dir, cached=True).rules
    assert not xdg.exists()


def test_a_damaged_file_is_replaced(rules_dir, xdg):
    """A file that is not a stored Rules (cut short, other bytes) is a plain load, then rewritten."""
    load_rules(rules_dir, cached=True)
    key = xdg.read_bytes().partition(b"\n")[0]
    xdg.write_bytes(key + b"\nnot a pickle")
    rules = load_rules(rules_dir, cached=True)
    assert rules.rules
    assert pickle.loads(xdg.read_bytes().partition(b"\n")[2]).digest == rules.digest

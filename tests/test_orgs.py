"""Organisation policy is data: each org rule names its interpreter, the lexicon comes from the loaded
rules (lists and rules/org_settings.toml), and `explain` names the list or setting behind every org
candidate that was cut, rejected or lost."""
import pickle

import pytest

from pipeline.article import analyse, process_text
from pipeline.commands.explain import explain
from pipeline.rules import RulesError, load_rules
from pipeline.stages import orgs
from pipeline.stages.read import read_file
from tests.helpers import RULES, corpus_articles, rules


def org_values(text: str, r) -> list[str]:
    return [row["value"] for row in process_text("t", "标题\n" + text, r).rows if row["kind"] == "org"]


def test_every_org_rule_names_a_known_interpreter():
    org_rules = [r for r in rules().rules if r.kind == "org"]
    assert org_rules
    assert {r.interpret for r in org_rules} <= set(orgs.INTERPRETERS)
    assert {r.id: r.interpret for r in org_rules}["org.gazetteer"] == "gazetteer"


def test_unknown_interpreter_is_a_rules_error(rules_dir):
    path = rules_dir / "org.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('interpret = "gazetteer"', 'interpret = "lookup"'),
                    encoding="utf-8")
    with pytest.raises(RulesError) as e:
        load_rules(rules_dir)
    assert "org.toml" in str(e.value) and "[org.gazetteer] interpret must be one of" in str(e.value)


def test_missing_or_mistyped_setting_is_a_rules_error(rules_dir):
    path = rules_dir / "org_settings.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("common_freq = 2000", "common_freq = \"high\"").replace("max_name = 40\n", ""),
                    encoding="utf-8")
    with pytest.raises(RulesError) as e:
        load_rules(rules_dir)
    assert "org_settings.toml" in str(e.value)
    assert "missing setting 'max_name'" in str(e.value) and "'common_freq' must be a int" in str(e.value)


def test_lexicon_is_built_from_the_loaded_lists(rules_dir):
    """Two loads of different folders give different lexicons (no cache keyed by object id)."""
    text = "他在柳泉水泥厂工作"
    assert org_values(text, load_rules(rules_dir)) == []
    with open(rules_dir / "lists" / "place.txt", "a", encoding="utf-8") as f:
        f.write("柳泉\n")
    assert org_values(text, load_rules(rules_dir)) == ["柳泉水泥厂"]
    assert org_values(text, rules()) == []


def test_lexicon_pickles_without_jieba_tables():
    lex = rules().org
    assert lex["tags"] and lex["freq"]                     # looked up on first use
    copy = pickle.loads(pickle.dumps(lex))
    assert "tags" not in dict.keys(copy) and "freq" not in dict.keys(copy)
    assert copy["suffix"] == lex["suffix"] and copy["tags"] is not None


def test_a_setting_changes_the_decision(rules_dir):
    """common_freq tells a kind of company from a name: lowered under 携程's jieba frequency (59),
    携程集团 reads as a kind of company."""
    text = "兰州文旅集团联合携程集团推出线路"
    gazetteer = rules_dir / "lists" / "org_gazetteer.txt"
    gazetteer.write_text(gazetteer.read_text(encoding="utf-8").replace("携程 company\n", ""), encoding="utf-8")
    assert "携程集团" in org_values(text, load_rules(rules_dir))
    path = rules_dir / "org_settings.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("common_freq = 2000", "common_freq = 50"),
                    encoding="utf-8")
    assert "携程集团" not in org_values(text, load_rules(rules_dir))


@pytest.mark.parametrize("text,needle", [
    ("兰州市持续推进甘肃省同位素重点实验室建设", "推进 is in rules/lists/org_stop.txt"),
    ("他在柳泉水泥厂工作", "add one to rules/lists/place.txt"),
    ("他在保险公司工作", "common_freq in rules/org_settings.toml"),
    ("俄罗斯政局动荡", "rules/lists/org_not_name_end.txt"),
    ("外资企业禾丰电子有限公司落户兰州", "rules/lists/org_descriptor.txt"),
    ("韩国禾川大学与兰州大学签约", "rules/lists/org_foreign_place.txt"),
    ("中国甘肃网3月5日讯 兰州市人民政府发布", "outlet_after in rules/org_settings.toml"),
    ("这是第一个国家级开发区", "国家级 is in rules/lists/org_stop.txt"),
])
def test_explain_names_the_place_to_edit(text, needle):
    assert needle in explain(text, rules(), "org")


def test_every_org_decision_in_the_corpus_names_a_rules_file():
    """Every org candidate of the corpus, kept, lost or rejected, says which file decided its name."""
    seen = 0
    for path in corpus_articles():
        a = analyse(read_file(path).text, rules())
        for c in a.kept + a.lost + a.rejected:
            if c.kind != "org":
                continue
            seen += 1
            reason = c.dropped if c in a.rejected else c.fields["_why"]
            assert "rules/" in reason, (path.name, c.text, reason)
    assert seen > 100

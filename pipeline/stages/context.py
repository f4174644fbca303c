"""Stage 6, context: what each figure measures, whose it is, when, and whether it is a change.

SPEC "Context of a figure": every amount, count, percent and quantity row gets
`indicator`, `entity`, `period`, `period_max` and `change`, read from its
clause as written; where the text does not say, the field stays empty (a
wrong context is worse than none). The stage reads the cleaned text and the
rows already found: date rows give periods, org rows give entities.

A sentence ends at 。！？ or a line end (；and ，do not end it); its clauses
at ，；：. For each clause the stage reads its subject (an org row, a place or
reference word, or the words before a value verb) and carries it to the
following clauses of the sentence that have none. For each figure it reads
the `gap` (the clause text between the subject or the figure before, and the
figure) and the `tail` (the text after it): the patterns of
`rules/context.toml`, tried in file order, decide the indicator and change.
Every choice names its rule, for `explain`.

The rules and lists are loaded in context_rules.py; the subject a clause opens with is read in
context_subject.py; this module walks the sentences and decides each figure's fields.
"""
from __future__ import annotations

from bisect import bisect_left

import regex

from ..outputs import FIGURE_KINDS
# the stage's rules and names, re-exported for the commands and rules.py (load, CONTEXT_FILE, Pattern…)
from .context_rules import (CONTEXT_FILE, DIGIT, TRIM, Choice, ContextRules, Pattern, Words,  # noqa: F401
                            clean_name, ends_with, holds_word, load, skip_words, spans, strip_end,
                            trie_alternation)
from .context_subject import OPEN_QUOTE, RESPECTIVELY, ArticleRows

# Sentence ends (SPEC: ；and ，do not end a sentence) and clause ends inside a sentence.
SENTENCE_END = regex.compile(r"[。！？!?\n]")
CLAUSE_END = regex.compile(r"[，,；;：]|(?<![0-9０-９]):|:(?![0-9０-９])")    # (7:00 is a time, no clause end)
# Punctuation right after a figure: no noun follows it.
PUNCT = set("，,；;。：:、！？!?）)】」”\n")
# A note in brackets right after a date (24日(正月初六)全国铁路…): skipped with the date.
DATE_NOTE = regex.compile(r"[（(][^）)，,。]{1,12}[）)]")
# The gap patterns of rules/context.toml that decide a figure's indicator and change, in this order.
GAP_PATTERNS = ("context.from_level", "context.old_level", "context.base_level", "context.growth", "context.compare",
                "context.change_object", "context.share", "context.capacity", "context.verb_noun",
                "context.value_verb", "context.link_verb")
# X中有N%: the share of X that …; 中 is no part of the indicator (受访企业中有91.3%对…表示满意).
HAVE, AMONG = "有", "中"
# A date right after one of these is a comparison's base, part of the gap (比2023年多38件).
COMPARED = ("比", "较")
# Conjunctions between two figures of one indicator (完成21.4亿元和16.2亿元).
JOIN = regex.compile(r"^[和及、/／]$")
# …and between the names of an indicator shared out by 分别 (笔数和金额分别增长…).
LIST_JOIN = regex.compile(r"[和及、]")
# Names of a 、 list shared out by 分别 are whole indicators when each is at least this long (工业增加值、
# 固定资产投资分别增长…), not when one is shorter (城镇、农村居民人均可支配收入: 城镇 is a part).
MIN_LISTED_NAME = 3
# A new thing a clause ends with is a topic only when named: quoted, an org row, or at least this long
# (设立研发中心 is no topic, 推出普惠型商业补充医疗保险 is).
MIN_FOUNDED = 5
# A clause opening with this word reads a new subject before its verb (其中高校院所输出…).
SUBJECT_OPENER = "其中"
# A name before a date inside a clause (某某动力|2024年|净利润…) is whose the figure is when at most this long.
MAX_PLAIN_NAME = 8
# A clause ending so lets the next read its own subject when it held nothing but its own (阳江：…);
# after it a quote opens someone's words, a sentence of its own (…表示：“2025年公司力争…”).
COLON = "：:"


def _period(a: ArticleRows, d: dict | None, rule: str, why: str) -> tuple[Choice, Choice]:
    if d is None:
        return Choice("", rule, why), Choice("", rule, why)
    return (Choice(d["value"], rule, f"{why}: {d['text']}"),
            Choice(d.get("value_max", ""), rule, f"{why}: {d['text']}"))


def paragraph_date(a: ArticleRows, para_start: int, para_end: int) -> dict | None:
    """A date opening a paragraph (截至2023年末，…; 前三季度全市…), for its later sentences
    that go on about the same thing (they open without a subject of their own)."""
    t = a.text
    source = a.cr.patterns.get("context.source")
    p = skip_words(t, para_start, para_end, source.regex if source else None)
    if p > para_start and t[p:p + 1] in "，,":       # 记者11月20日从某海关获悉，今年前10个月，…
        p += 1
    p = skip_words(t, p, para_end, a.cr.words.get("lead"))
    d = a.date_at(p)
    if d is None:
        return None
    phrase = a.cr.patterns.get("context.time_phrase")
    q = skip_words(t, d["end"], para_end, phrase.regex if phrase else None)    # 今年前10个月，
    return d if q < para_end and a.eligible_date(d) else None


def contexts(text: str, rows: list[dict], cr: ContextRules,
             skips: list[tuple[int, int]] = ()) -> list[dict[str, Choice]]:
    """For each row (same order), its context fields as Choices; {} for a date or org row.

    `skips` are the datelines (中新网西宁11月2日电 (记者 某某)): a sentence opening with one is read
    after it, so the outlet's place is no subject."""
    out: list[dict[str, Choice]] = [{} for _ in rows]
    figures = sorted((r["start"], i) for i, r in enumerate(rows) if r["kind"] in FIGURE_KINDS)
    if not figures:
        return out
    a = ArticleRows(text, rows, cr)
    fig_starts = [s for s, _ in figures]
    para_start, para_date, para_first = 0, None, True
    dateline_end = {x: y for x, y in skips}
    for s, e in spans(text, 0, len(text), SENTENCE_END):
        starts_paragraph = s == 0 or text[s - 1] == "\n"
        b = dateline_end.get(s + len(text[s:e]) - len(text[s:e].lstrip()))
        if b is not None and b <= e:         # a dateline opens the sentence: read after it
            s = b
        if starts_paragraph:
            para_end = text.find("\n", s)
            para_end = len(text) if para_end < 0 else para_end
            para_start, para_date, para_first = s, paragraph_date(a, s, para_end), True
        lo, hi = bisect_left(fig_starts, s), bisect_left(fig_starts, e)
        if lo < hi:
            carried = None if para_first else para_date
            _sentence(a, s, e, [figures[k][1] for k in range(lo, hi)], carried, out, para_start)
        if text[s:e].strip():
            para_first = False
    return out


def _sentence(a: ArticleRows, s: int, e: int, idx: list[int], para_date: dict | None,
              out: list[dict[str, Choice]], para_start: int = 0) -> None:
    """The context of the figures (row indexes idx) of the sentence text[s:e]."""
    t, cr, P = a.text, a.cr, a.cr.patterns
    no_subject = Choice("", "", "no subject in the sentence before the figure")
    subject = no_subject
    last_ind = Choice()
    a.last_kind = ""         # the kind of the figure last_ind is of
    k = 0
    period_from = s
    same_time = None         # 同日…: the figures after it in the sentence take the paragraph's last date
    opened_sentence = False  # a clause with content was read (its subject decides the paragraph date)
    after_semicolon = False
    after_scene = False      # the clause before only set the place (在某高新区，)
    after_colon = False      # the clause before ended with a colon
    continues = False        # the sentence opens with 其中: it goes on about the paragraph's time
    sentence_year = None     # a year word (全年) of a clause before, for the later ones
    subject_parts: list = []  # the names of the subject, when a list
    source_p, phrase_p = P.get("context.source"), P.get("context.time_phrase")   # 据某报报道…; 春运期间…
    topic = None             # a new thing the clause before brought in (context.subject_founded)
    sent_inds: list[Choice] = []     # the indicators of the sentence's figures so far, in order
    w = cr.words
    lead, opener, modal, st = w.get("lead"), w.get("opener"), w.get("modal"), w.get("same_time")
    times = [(kw, w[kw]) for kw in ("time_word", "same_time", "year_word") if w.get(kw) is not None]
    sources = source_p is not None and source_p.possible(t, s, e)      # once for the sentence, then per clause
    phrases = phrase_p is not None and phrase_p.possible(t, s, e)
    lead_first = lead.first if lead is not None else ()
    modal_first = modal.first if modal is not None else ()
    if st is not None and not any(x in t[s:e] for x in st.words):
        st = None                    # no 同日… in the sentence
    for cs, ce in spans(t, s, e, CLAUSE_END):
        if k >= len(idx):         # no figure left in the sentence
            break
        if after_colon and t[cs] in OPEN_QUOTE and (cs + 1) not in a.orgs:    # …表示：“2025年公司…
            cs, subject, after_scene = cs + 1, no_subject, False
        source = source_p.regex if sources and source_p.possible(t, cs, ce) else None
        time_phrase = phrase_p.regex if phrases and phrase_p.possible(t, cs, ce) else None
        opened = t.startswith(SUBJECT_OPENER, skip_words(t, cs, ce, lead) if t[cs] in lead_first else cs)
        continues = continues or (opened and not opened_sentence)     # the sentence opens with 其中
        p = skip_words(t, cs, ce, opener, source)
        own_time, year_word = None, sentence_year      # (全年累计减免…，带动…增长27.4%: still the year)
        while True:
            d = a.date_at(p)          # a date row may hold its lead word (截至2023年底)
            if d is None:
                q = skip_words(t, p, ce, lead)
                if q > p and _time_or_name_at(a, q, ce, times, time_phrase):
                    p = q                 # 在兰州新区，截至目前，…; not 从|业人员, 自|贸试验区
                d = a.date_at(p)
            if d is None and t[p:p + 1] in modal_first:      # 力争|到2025年|全市…: a date after a modal
                q = skip_words(t, p, ce, modal, lead)
                d = a.date_at(q)
                p = q if d is not None else p
            if d is not None:
                p = skip_words(t, d["end"], ce, opener, lead, modal, source, DATE_NOTE)
                continue
            kind = m = None
            c = t[p:p + 1]
            for kw, words in times:
                if c in words.first:          # (the common miss costs no call)
                    m = words.match(t, p, ce)
                    if m is not None:
                        kind = kw
                        break
            if m is None and time_phrase is not None:      # 春运期间，…: a time of its own, no date row
                kind, m = "time_word", time_phrase.match(t, p, ce)
            if m is None:
                break
            if kind == "time_word":
                own_time = m.group()
                para_date = None          # the sentence says its own time: the paragraph's date is not it
            elif kind == "same_time":
                same_time = m.group()
            else:
                year_word = sentence_year = m.group()
            p = skip_words(t, m.end(), ce, opener, lead, source, DATE_NOTE)     # 大年初一（2月10日）
        if same_time is None and st is not None:      # 兰州市科协同日公布…: anywhere in the clause
            clause = t[cs:ce]
            same_time = next((x for x in st.words if x in clause), None)
        p = skip_words(t, p, ce, modal)
        if t[p:p + 1] in OPEN_QUOTE and (p + 1) in a.orgs:     # “兰州高新区…入选…”，集聚…: the org in quotes
            p += 1
        a.parts, a.owner, a.bare_head = [], None, False
        enumerated = skip_words(t, p, ce, w.get("enumerator"))     # 一是强化项目支撑，: a thing done, no subject
        subj = None if enumerated > p else \
            a.subject_at(p, ce, verb_subject=not subject.value or opened or after_semicolon or after_scene,
                         fresh=not subject.value or after_scene or opened,
                         named_only=after_semicolon and bool(subject.value) and not opened)
        p = enumerated
        parts, bare_head = a.parts, a.bare_head
        subject_before = subject          # (a head noun read here that a count counts gives it back)
        if subj is not None:
            subject, p = subj
            subject_parts = parts
            topic = None
            if not opened_sentence and not continues:   # a sentence with its own subject is about something
                para_date = None                           # else: no paragraph date (but 其中，甲… goes on)
        elif topic is not None and _opens_with_verb(a, p, ce):
            topic = None              # 推出某保险，累计赔付…: the subject's doing again
        elif RESPECTIVELY in t[cs:ce]:    # 甲、乙、丙…分别为x、y和z，分别增长…: the names of the subject again
            parts = subject_parts
        clause_subject = topic or subject
        has_content = bool(t[p:ce].strip("，,；;：: "))
        after_semicolon = t[ce - 1:ce] in "；;" or (after_semicolon and not has_content)
        # 在武进国家高新区，总投资120亿元的某基地已建成投产，…: a clause that only sets the place lets
        # the next one read a subject of its own (the place stays the subject when it names none)
        after_scene = subj is not None and (t[ce - 1] in COLON or
                                            (t[cs] in lead_first and skip_words(t, cs, ce, lead) > cs)) \
            and skip_words(t, p, ce, w.get("localizer")) >= ce - (t[ce - 1] in "，,；;：:")   # nothing else
        after_colon = t[ce - 1] in COLON
        if has_content:
            opened_sentence = True
        prev_end, prev_ind, prev_change = p, None, Choice()
        in_clause = None          # the figures of the clause after its subject (for 分别), when needed
        # 甲X1，乙X2，分别增长p1和p2: the i-th figure of the clause is of the i-th of the figures before
        j = t.find(RESPECTIVELY, cs, ce)       # (a clause with no words of its own before 分别 but 同比…)
        shared = _shared_out(a, t, cs, ce, idx, k, sent_inds) \
            if not parts and j >= 0 and skip_words(t, cs, j, opener, modal, w.get("base")) >= j else None
        while k < len(idx) and a.rows[idx[k]]["start"] < ce:
            r = a.rows[idx[k]]
            nxt = a.rows[idx[k + 1]]["start"] if k + 1 < len(idx) and a.rows[idx[k + 1]]["start"] < ce else ce
            # a figure inside the subject (甲公司投资5亿元建设的公园已开园) reads its gap from the clause start
            g0 = prev_end if prev_end <= r["start"] else cs
            d = a.last_any_date(g0, r["start"])
            pre_date = ""
            if d is not None and t[d["start"] - 1:d["start"]] in COMPARED:
                d = None                  # 比2023年多38件: the base's date stays in the gap
            if d is not None:             # 到2025年产值超过…, 兰州市2023年收入增长…: the gap starts after the date
                pre_date = t[max(g0, d["start"] - cr.max_gap):d["start"]]   # 羊肉产量|去年|达到…: read if need be
                g0 = d["end"]
            gap = t[max(g0, r["start"] - cr.max_gap):r["start"]]
            nd = a.next_date(r["end"], nxt)
            tail = t[r["end"]:nxt if nd is None else nd["start"]]    # 12家重点企业|1至11月…: a date ends it
            subj_here = clause_subject
            if parts and in_clause is None:
                in_clause = [i for i in idx if cs <= a.rows[i]["start"] < ce and a.rows[i]["start"] >= p]
                parts = _last_joined(t, parts, len(in_clause))     # 甲、乙和丙分别…: three names
            if parts and RESPECTIVELY in t[cs:ce] and len(in_clause) == len(parts) and idx[k] in in_clause:
                ps, pe = parts[in_clause.index(idx[k])]
                subj_here = Choice(t[ps:pe], subject.rule, f"name {in_clause.index(idx[k]) + 1} of the "
                                                           f"subject, {RESPECTIVELY}")
            elif r["start"] < p:         # a figure inside the subject is not its own entity…
                owner = a.owner             # …but the place before it may own it (全市12个特色夜市)
                subj_here = owner[0] if owner and owner[1] <= r["start"] else no_subject
            counted = bare_head and r["start"] == p == prev_end and (r["kind"] != "count" or _measured(a, r))
            ctx = _figure(a, r, gap, tail, no_subject if counted else subj_here,
                          last_ind if prev_ind is None else prev_ind,
                          joined=prev_ind is not None, last_change=prev_change, pre_date=pre_date)
            if counted:             # 先进制造业项目21个，占比55.3%: the head noun is what is counted, no subject
                ctx["indicator"] = Choice(subject.value, subject.rule, "the project or facility right before "
                                                                       "the figure is what it counts or measures")
                ctx["entity"] = subject = clause_subject = subject_before    # (其中三级医院48家: still 杭州市's)
            whole = None              # an indicator shared out by 分别, carried whole to the next figure
            if RESPECTIVELY in t[cs:ce] and not parts:      # 笔数和金额分别增长12.4%和15.2%: name i for figure i
                listed = ctx["indicator"]
                if not listed.value and prev_ind is None and (j := t.find(RESPECTIVELY, p, r["start"])) > p:
                    listed = Choice(t[p:j], "context.subject_list", f"the names before {RESPECTIVELY}, what "
                                                                    f"the figures measure")   # (too long a gap)
                name_i = _respective(a, listed, idx, k, cs, ce)
                if name_i is not listed:
                    whole, ctx["indicator"] = listed, name_i
            if shared and _carried(ctx["indicator"]):
                ctx["indicator"] = Choice(shared[0].value, shared[0].rule,
                                          f"{RESPECTIVELY}: the indicator of the figure before in the same place")
            if shared:
                shared = shared[1:]
            # period: the last date before the figure in its sentence, unless the clause has its own time
            owner = ctx.pop("_owner", None)
            if owner is not None:          # the rest of the sentence is the org's (…，国产种子市场占有率…)
                subject = clause_subject = owner
            no_period = ctx.pop("_no_period", None)
            if no_period:
                per = _period(a, None, no_period, "an old level, of an earlier time")
            elif own_time and a.last_date(cs, r["start"]) is None:
                per = _period(a, None, "lists/context_time_word.txt",
                              f"the clause has its own time word {own_time}")
            else:
                d = a.last_date(period_from, r["start"])
                if same_time and d is None:
                    d = a.last_date(para_start, r["start"])
                    per = _period(a, d, "lists/context_same_time.txt",
                                  f"{same_time}: the last date of the paragraph before it")
                elif d is not None and year_word and len(d["value"]) >= 4 and d["value"][:4].isdigit():
                    per = (Choice(d["value"][:4], "lists/context_year_word.txt",
                                  f"{year_word}: the year of {d['text']}"), Choice("", "lists/context_year_word.txt",
                                                                                   f"{year_word}: one year"))
                elif d is not None:
                    per = _period(a, d, "sentence date", "the last date before the figure in its sentence")
                elif para_date is not None:
                    per = _period(a, para_date, "paragraph date", "the date opening the paragraph")
                else:
                    per = _period(a, None, "", "no date before the figure in its sentence or paragraph")
            ctx["period"], ctx["period_max"] = per
            out[idx[k]] = ctx
            sent_inds.append(ctx["indicator"])
            if ctx["indicator"].value:
                last_ind = prev_ind = whole or ctx["indicator"]
                a.last_kind = r["kind"]
            prev_change = ctx["change"]
            prev_end = r["end"]
            k += 1
        topic = _founded(a, p, ce) or topic


def _shared_out(a: ArticleRows, t: str, cs: int, ce: int, idx: list[int], k: int,
                before: list[Choice]) -> list[Choice] | None:
    """For a clause with 分别 holding n ≥ 2 figures (from idx[k]) after n figures of the sentence
    with two or more different indicators: those n indicators, in order; else None."""
    n = 0
    while k + n < len(idx) and a.rows[idx[k + n]]["start"] < ce:
        n += 1
    prior = before[-n:] if n >= 2 and len(before) >= n else []
    return prior if prior and len({c.value for c in prior}) > 1 and all(c.value for c in prior) else None


def _time_or_name_at(a: ArticleRows, q: int, ce: int, times: list, time_phrase) -> bool:
    """Does a date, a time word or phrase, an org row, a reference or place word, or a clause end
    follow a lead word ending at q? (Else the lead word is the start of a word: 从业人员, 自贸试验区.)"""
    t = a.text
    return (q >= ce or t[q] in "，,；;：:" or a.date_at(q) is not None or a._name_at(q, ce) is not None
            or any(words.length_at(t, q, ce) for _, words in times)
            or (time_phrase is not None and time_phrase.match(t, q, ce) is not None))


def _last_joined(t: str, parts: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """The names of a list written 甲、乙和丙: with the last split at its one 和/及 when that makes
    the n names the clause's n figures need; else as they are."""
    ps, pe = parts[-1]
    joins = [m.start() for m in LIST_JOIN.finditer(t, ps, pe) if t[m.start()] in "和及"]
    if len(parts) + 1 != n or len(joins) != 1:
        return parts
    return parts[:-1] + [(ps, joins[0]), (joins[0] + 1, pe)]


def _plain_name(a: ArticleRows, s: str) -> bool:
    """Is s a short name holding no value verb (湘源动力, not 全县新建)?"""
    return 2 <= len(s) <= MAX_PLAIN_NAME and not holds_word(a.cr.verbs, s)


def _measured(a: ArticleRows, r: dict) -> bool:
    """Is r a count with a measure word of lists/measure_word.txt (21个, not 9城)?"""
    measure = a.cr.words.get("measure")
    return r["kind"] == "count" and measure is not None and r.get("unit", "") in measure.words


def _respective(a: ArticleRows, ind: Choice, idx: list[int], k: int, cs: int, ce: int) -> Choice:
    """For the k-th figure of the sentence in a clause with 分别 whose indicator joins as many names
    (LIST_JOIN) as the clause has figures, of one length or joined by 、 alone and each at least
    MIN_LISTED_NAME long: the name of the same rank; else the indicator as it is (装备制造业和食品工业
    增加值, 城镇、农村居民人均可支配收入: the last words may be of all, so the names are not split)."""
    names = LIST_JOIN.split(ind.value)
    mine = [i for i in idx if cs <= a.rows[i]["start"] < ce]
    listed = "和" not in ind.value and "及" not in ind.value and min(map(len, names)) >= MIN_LISTED_NAME
    if len(names) < 2 or len(names) != len(mine) or (len({len(n) for n in names}) > 1 and not listed) \
            or len(names[0]) < a.cr.min_indicator:
        return ind
    rank = mine.index(idx[k])
    return Choice(names[rank], ind.rule, f"name {rank + 1} of {ind.value}, {RESPECTIVELY}")


def _carried(c: Choice) -> bool:
    """Was this indicator taken from the figure before (not written before the figure itself)?"""
    return c.rule == "join" or c.why.startswith("the indicator of the figure before")


def _founded(a: ArticleRows, p: int, ce: int) -> Choice | None:
    """The new thing a clause ends with (…合作推出惠民保险，): context.subject_founded's object."""
    pat = a.cr.patterns.get("context.subject_founded")
    text = a.text[p:ce]
    if pat is None or (pat.requires_re is not None and not pat.requires_re.search(text)):
        return None
    m = pat.regex.search(text)
    name = clean_name(m.group("entity")) if m else ""
    named = name and (m.group("entity").startswith("“") or (p + m.start("entity")) in a.orgs
                      or len(name) >= MIN_FOUNDED)
    return Choice(name, pat.id, f"the new thing the clause before brought in ({pat.where})") if named else None


def _opens_with_verb(a: ArticleRows, p: int, ce: int) -> bool:
    """Does the clause at p open with a value verb or a preposition (累计投入…, 向…)? (Adverbs are
    skipped before p.)"""
    w = a.cr.words
    return any(r is not None and r.match(a.text, p, ce) for r in (a.cr.verbs, w.get("preposition")))


def _nominal_verb(a: ArticleRows, before: str, verb: str, name) -> str:
    """The thing done, when the verb right before a figure follows a verb of lists/context_do_verb.txt
    and its object (共完成|老旧小区改造|286个: 老旧小区改造), else ''."""
    v, level = a.cr.words.get("do_verb"), a.cr.words.get("level_verb")
    if v is None or (level is not None and verb in level.words):     # …达到5亿元: a level, no deed
        return ""
    for i in range(len(before) - 1, -1, -1):
        m = v.match(before, i)
        if m and m.end() < len(before):
            return name(before[m.end():] + verb)
    return ""


def _whole_verb(before: str, verb: str, verbs: "Words | None") -> str:
    """`before` without the start of a longer verb that ends with `verb` (年综合能耗下|降至 is
    年综合能耗|下降至: the last verb is read as the longest word)."""
    for n in (verbs.lengths if verbs is not None else ()):
        k = n - len(verb)
        if 0 < k <= len(before) and before[-k:] + verb in verbs.words:
            return before[:-k]
    return before


def _counted_before(a: ArticleRows, gap: str) -> bool:
    """A count whose noun is written before it, after its verb (集聚生物医药企业200多家, 选派医师30名赴港):
    the words between the last value verb and the figure are a name (not ending in 的 or 等, or in a
    preposition: 吸引了来自|28个省区市的…)."""
    p = a.cr.patterns.get("context.value_verb")
    m = p.regex.search(gap) if p is not None else None
    if not m:
        return False
    rest = m.group("indicator").strip()
    return bool(clean_name(rest)) and not rest.endswith(("的", "等")) and \
        not ends_with(rest, a.cr.words.get("preposition"), whole=True)


def _strip_subject(s: str, subject: Choice) -> str:
    if subject.value and s.startswith(subject.value):
        return s[len(subject.value):]
    return s


def _figure(a: ArticleRows, r: dict, gap: str, tail: str, subject: Choice, last_ind: Choice,
            joined: bool = False, last_change: Choice = Choice(), pre_date: str = "") -> dict:
    """indicator, entity and change of one figure from its gap and tail (joined: a figure of the same
    clause stands before it; pre_date: the clause's words before a date inside the gap)."""
    P = a.cr.patterns
    modal = a.cr.words.get("modal")
    opener = a.cr.words.get("opener")

    phrase_p = P.get("context.time_phrase")
    time_phrase = phrase_p.regex if phrase_p is not None and phrase_p.possible(gap) else None

    link = a.cr.words.get("link")
    time_word = a.cr.words.get("time_word")
    per_unit = a.cr.words.get("per_unit")        # (价格为|每斤|1.21元, 提高到|每人每月|163元)

    rate_end = a.cr.words.get("rate_end")

    def name(s: str) -> str:
        s = _strip_subject(s.strip(TRIM), subject)
        q = skip_words(s, 0, len(s), modal, opener, time_phrase, time_word)     # (今年|营收)
        s = strip_end(s[q:].strip(TRIM), modal)
        if link is not None and s[-1:] in link.words:      # 累计|有, 比例为: a link verb is no indicator
            s = s[:-1]
        s = strip_end(s, per_unit)
        return "" if per_unit is not None and s in per_unit.words else clean_name(s)

    def pat(pid: str, on: str):
        p = P.get(pid)
        if p is None or (p.requires_re is not None and not p.requires_re.search(on)):
            return p, None
        return p, p.regex.search(on)

    ind = Choice("", "", "no pattern of rules/context.toml read an indicator")
    ent = subject
    change = Choice("", "", "no change word before the figure")
    ctx: dict = {}
    obj_p = P.get("context.object")
    obj_cache: list[str] = []

    def object_name() -> str:
        """The noun after the figure (context.object), read once when first needed."""
        if not obj_cache:
            m = pat("context.object", tail)[1] if tail and tail[0] not in PUNCT else None
            obj_cache.append(clean_name(m.group("noun")) if m else "")
        return obj_cache[0]

    of_cache: list = []

    def of_noun() -> str:
        """The noun after 的 right after the figure (context.of_noun), read once when first needed."""
        if not of_cache:
            m = pat("context.of_noun", tail)[1]
            of_cache.append(clean_name(m.group("noun")) if m else "")
        return of_cache[0]

    g = gap.strip()
    if r["kind"] == "count" and r.get("unit") and a.cr.words.get("measure") is not None and not _measured(a, r):
        ind = Choice("", "lists/measure_word.txt", f"a count of {r['unit']} itself (no measure word): "
                                                   f"nothing else is counted")
    elif JOIN.match(g) and last_ind.value and joined:
        ind = Choice(last_ind.value, "join", f"joined by {g} to the figure before")
        if last_change.value:          # 分别增长5.1%和6.3%: the second rises too
            change = Choice(last_change.value, "join", f"joined by {g} to the figure before, {last_change.why}")
    elif r["kind"] == "count" and object_name() and not _counted_before(a, g):
        obj_name = object_name()
        ind = Choice(obj_name, obj_p.id, f"the noun after the measure word ({obj_p.where})")
    else:
        for pid, p, needs, rx in a.cr.sequence(GAP_PATTERNS):
            if needs is not None and not needs.search(g):     # (requires: a word the pattern needs)
                continue
            m = rx.search(g)
            if not m:
                continue
            gd = m.groupdict()
            if pid in ("context.capacity", "context.verb_noun"):
                ind = Choice(m.group("indicator"), p.id, p.where)
                if pid == "context.capacity" and object_name():
                    ent = Choice(object_name(), p.id, f"the noun after the capacity ({p.where})")
                break
            if pid in ("context.value_verb", "context.link_verb"):
                gd["before"] = _whole_verb(gd.get("before") or "", m.group("verb"), a.cr.verbs)
                if m.group("verb") == HAVE and gd["before"].endswith(AMONG) and len(gd["before"]) > 2:
                    gd["before"] = gd["before"][:-len(AMONG)]      # 受访企业中|有91.3%…: among them
                v = name(gd.get("indicator") or "")
                if v:
                    ind = Choice(v, p.id, f"after the verb {m.group('verb')} ({p.where})")
                elif r["kind"] != "percent" and object_name():
                    ind = Choice(object_name(), obj_p.id, f"nothing between {m.group('verb')} and the figure: "
                                                     f"the noun after it ({obj_p.where})")
                elif of_noun():     # 提供300亿元的融资支持: the noun after 的 is what it measures (below)
                    pass
                elif nominal := _nominal_verb(a, gd["before"], m.group("verb"), name):
                    ind = Choice(nominal, p.id, f"{m.group('verb')} names the thing done, after an earlier "
                                                f"verb ({p.where})")       # 完成老旧小区改造286个
                elif (before := name(gd["before"])) in (rate_end.words if rate_end else ()) and last_ind.value:
                    ind = Choice(last_ind.value, p.id, f"a bare {before}: the share of the indicator "
                                                       f"of the figure before ({p.where})")    # …，占比达51.2%
                elif before:
                    ind = Choice(before, p.id, f"before the verb {m.group('verb')} ({p.where})")
                elif last_ind.value and not DIGIT.search(gd["before"]) and r["kind"] in ("percent", a.last_kind):
                    # (a count after an amount, 园区企业达到1600家 after 总营收1086亿元, is not of its indicator)
                    ind = Choice(last_ind.value, p.id, "the indicator of the figure before in the sentence")
                break
            v = name(gd.get("indicator") or "")
            if v:
                ind = Choice(v, p.id, p.where)
            elif last_ind.value:
                ind = Choice(last_ind.value, p.id, f"the indicator of the figure before ({p.where})")
            if gd.get("up"):
                change = Choice("up", p.id, f"{gd['up']} before the figure ({p.where})")
            elif gd.get("down"):
                change = Choice("down", p.id, f"{gd['down']} ({p.where})")
            if p.no_period:
                ctx["_no_period"] = p.id
            break
        else:
            v = name(g)
            if v and r["kind"] == "percent" and rate_end and v in rate_end.words and last_ind.value:
                ind = Choice(last_ind.value, "lists/context_rate_end.txt",
                             f"a bare {v} before the figure: the share of the indicator of the figure before")
            elif v:
                ind = Choice(v, "gap", "the words before the figure in its clause")
            elif r["kind"] != "percent" and object_name():
                ind = Choice(object_name(), obj_p.id, f"the noun after the figure ({obj_p.where})")
    if not ind.value and pre_date and name(pre_date):     # 全县羊肉产量去年达到1.8万吨
        ind = Choice(name(pre_date), "gap", "the words before the date inside the clause")
    elif ind.value and not ent.value and pre_date and _plain_name(a, name(pre_date)):
        # 某某动力2024年净利润同比增长18.3%: with the indicator after the date, the name before it is whose
        ent = Choice(name(pre_date), "gap", "the name before the date in the clause, its indicator after it")
    if not ind.value and subject.owner and (r["kind"] != "count" or not object_name()):
        # 甲集团研发的蔬菜品种已达到178个: the noun after 的 is what the figure counts, the org did it
        ind = Choice(subject.value, subject.rule, "the subject after 的 is what the figure measures")
        ent = Choice(subject.owner, "org rows", f"the org that {subject.value} is of (before the verb and 的)")
        ctx["_owner"] = ent
    gr_p, gr = pat("context.grant", tail) if r["kind"] == "percent" else (None, None)
    if gr and clean_name(gr.group("noun")):
        ind = Choice(clean_name(gr.group("noun")), gr_p.id, f"the noun granted after the figure ({gr_p.where})")
    of_p = P.get("context.of_noun")
    if of_noun():
        noun = of_noun()
        if ind.value:
            ent = Choice(noun, of_p.id, f"the figure is of the noun after 的 ({of_p.where})")
        else:
            ind = Choice(noun, of_p.id, f"the noun after 的, no indicator before ({of_p.where})")
    if 0 < len(ind.value) < a.cr.min_indicator:
        ind = Choice("", "context.toml min_indicator", f"{ind.value} ({ind.rule}) is shorter than "
                                                       f"min_indicator: no name")
    ctx.update(indicator=ind, entity=ent, change=change)
    return ctx


def describe(name: str, c: Choice) -> str:
    """One context field as explain shows it: how it was chosen, or why it is empty."""
    if c.value:
        return f"{name}: {c.value} by {c.rule or 'context'} ({c.why})"
    return f"{name}: (empty) " + (f"[{c.rule}] " if c.rule else "") + c.why


def apply(rows: list[dict], chosen: list[dict[str, Choice]]) -> None:
    """Write the chosen values into the rows' context columns (figures only)."""
    for r, c in zip(rows, chosen):
        for k, v in c.items():
            r[k] = v.value

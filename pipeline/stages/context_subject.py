"""Whose a figure is: the subject a clause of the context stage opens with.

`ArticleRows` holds one article's rows by position (dates, which of them can be a period, org rows,
counts) and reads the subject written at a position: org rows and lists of names, a reference or
place word and a facility or zone of it (lists/context_head.txt), a counted or numbered subject, the
noun after 的, or the words before a value verb (the patterns `context.subject_*` of
rules/context.toml). Each reading is a `Choice` naming its rule.
"""
from __future__ import annotations

from bisect import bisect_left

import regex

from .context_rules import (MAX_NAME, Choice, ContextRules, LISTS, clean_name, ends_with, holds_word, skip_words,
                            strip_end)

# A date row right after one of these, or right before one of those, is a comparison base, not the
# figure's period (较2018年提高…, 与2020年相比, 恢复到2019年同期的…).
BASE_BEFORE = regex.compile(r"(?:较|比|与|同|相对于|恢复到|恢复至)$")
BASE_AFTER = regex.compile(r"(?:同期|相比|末相比|底相比|水平|的[0-9.]+倍)")
BASE_WINDOW = 8        # characters after a date searched for BASE_AFTER
# At most this many characters extend an org or place into a longer subject (兰州市 + 财政).
MAX_EXTENSION = 12
# A value verb right before a head is part of a facility's name after at least this many characters
# of it (…至忠和段|改扩建|工程), not after fewer (新|开工|项目 is what is counted).
NAME_BEFORE_VERB = 4
# 所在 (where it is: 项目所在园区) holds 在 but is no preposition.
LOCATED = "所在"
# A clause opening with this word names a new subject after 的 (由甲、乙共同主办的这一赛事已…).
AGENT = "由"
# The marks that join the names of a list (甲镇、乙镇和丙镇).
LIST_MARKS = ("、",)
# After a list of names, 等 and what they are (甲医院、乙医院等6家医院), or their number and what they
# are (甲医院、乙医院和丙医院3家医院): part of the subject.
ETC = regex.compile(r"(?:等(?:[0-9一二三四五六七八九十两]+[家个所座名])?|[0-9一二三四五六七八九十两]+[家个所座名])(?=\p{Han})")
MAX_ETC_NOUN = 12
OPEN_QUOTE = ("“", '"', "「")         # quotes opening a name (“科技贷”产品)
# The rule name of a reference word (全市, 园区): a whole reference, never the start of a longer name.
REFERENCE_RULE = "lists/context_reference.txt"
PLACE_RULE = f"lists/{LISTS['place']}.txt"
# A phase right after a facility's head is part of its name (某冷链物流基地一期, 某项目二期工程).
PHASE = regex.compile(r"[一二三四五六首]期(?:工程|项目)?(?!\p{Han}{0,2}(?:投资|建成|项目))")
# 该 and a facility (该风电场, 该产业园) is a reference too; the facility at most this long.
THIS = "该"
MAX_THIS = 6
# A name opening a clause that ends in a head of one character (港, 站, 店) is a facility when at least
# this long (某某港); shorter it is a plain noun (母港航次86个).
MIN_SHORT_HEAD_NAME = 3
# A clause with this word gives the i-th of a list of subject names to its i-th figure (甲、乙分别完成3亿元和2亿元).
RESPECTIVELY = "分别"
# Org rows joined by these form one entity (甲大学、乙大学共建…).
ORG_JOIN = regex.compile(r"^[、和及]$")     # not 与: 甲大学与乙公司合作… is 甲大学's
# …but after a list of two or more (甲大学、乙大学与驻地医院共建…) 与 adds one more partner to it
LIST_PARTNER = "与"
# The lists a subject's name may be a word of, with the rule name each reading gives.
NAME_LISTS = tuple((key, f"lists/{LISTS[key]}.txt") for key in ("reference", "place"))


class ArticleRows:
    """The rows of one article indexed by position, and the words of the rules."""

    def __init__(self, text: str, rows: list[dict], cr: ContextRules):
        self.text, self.rows, self.cr = text, rows, cr
        self.dates = sorted((r["start"], r["end"], r) for r in rows if r["kind"] == "date")
        self.date_starts = [d[0] for d in self.dates]
        self.eligible = {d[0]: self._eligible(d[2]) for d in self.dates}   # start -> not a comparison base
        self.orgs = {r["start"]: r for r in rows if r["kind"] == "org"}
        self.counts = {r["start"]: r for r in rows if r["kind"] == "count"}
        self.owner: tuple[Choice, int] | None = None   # (entity, end) for a count inside the subject (全市12个…)
        self.parts: list[tuple[int, int]] = []     # the names of the last subject read, when a list
        self.bare_head = False                     # the last subject read is a head noun alone (先进制造业项目)
        self.heads_re = cr.heads_re()              # any head of lists/context_head.txt (a quick test)
        self.last_kind = ""                        # the sentence loop's: the kind of the last figure with an indicator

    def eligible_date(self, d: dict) -> bool:
        """A date row that can be a period: not a comparison base."""
        return self.eligible[d["start"]]

    def _eligible(self, d: dict) -> bool:
        t = self.text
        return not (BASE_BEFORE.search(t, max(0, d["start"] - 4), d["start"]) or
                    BASE_AFTER.match(t, d["end"], min(len(t), d["end"] + BASE_WINDOW)))

    def last_date(self, lo: int, hi: int) -> dict | None:
        """The last eligible date row starting in [lo, hi)."""
        i = bisect_left(self.date_starts, hi) - 1
        while i >= 0 and self.dates[i][0] >= lo:
            d = self.dates[i][2]
            if self.eligible_date(d):
                return d
            i -= 1
        return None

    def last_any_date(self, lo: int, hi: int) -> dict | None:
        """The last date row lying inside [lo, hi)."""
        i = bisect_left(self.date_starts, hi) - 1
        if i >= 0 and self.dates[i][0] >= lo and self.dates[i][1] <= hi:
            return self.dates[i][2]
        return None

    def next_date(self, lo: int, hi: int) -> dict | None:
        """The first date row starting in [lo, hi)."""
        i = bisect_left(self.date_starts, lo)
        return self.dates[i][2] if i < len(self.dates) and self.dates[i][0] < hi else None

    def date_at(self, p: int) -> dict | None:
        i = bisect_left(self.date_starts, p)
        return self.dates[i][2] if i < len(self.dates) and self.dates[i][0] == p else None

    def subject_at(self, p: int, end: int, verb_subject: bool = True,
                   fresh: bool = False, named_only: bool = False) -> tuple[Choice, int] | None:
        """The clause subject written at p: org rows (joined by 、/和), a reference or place word, or
        (verb_subject) the words before a value verb (context.subject_before_verb); where the
        sentence has no subject yet (fresh), a project or facility ending in a head word."""
        t = self.text
        end = min(end, p + self.cr.max_gap)
        for pid in ("context.subject_numbered", "context.subject_each"):
            if pid == "context.subject_each" and not verb_subject:     # 单个项目 under a subject: its part
                continue
            pat = self.cr.patterns.get(pid)
            m = pat.match_at(t, p, end) if pat is not None else None
            if m:
                return Choice(m.group("entity"), pat.id, f"a counted or numbered subject ({pat.where})"), p + m.end("entity")
        listed = self._noun_list(p, end) if verb_subject else None    # (集聚甲、乙等企业: an object)
        if listed:
            return listed
        first = self._name_at(p, end)
        lead_in = t[p:end].rstrip().endswith(("：", ":"))    # 全市…的主要预期目标是：… names no subject after 的
        listing = first is not None and t[first[1]:first[1] + 1] in LIST_MARKS and RESPECTIVELY in t[p:end]
        # (甲镇、乙镇、丙镇的民宿数量分别为…: the names are shared out; 甲、乙联合举办的大赛 is the contest)
        if (verb_subject or t.startswith(AGENT, p) or first is not None) and "的" in t[p:end] and not lead_in \
                and not listing:
            for pid in ("context.subject_of_noun", "context.subject_of_noun_end"):
                pat = self.cr.patterns.get(pid)
                m = pat.match_at(t, p, end) if pat is not None else None
                org = self.orgs.get(p + m.start("entity")) if m else None
                if org is not None:            # 园区内的|某某股份有限公司|全年研发投入…: the org row after 的
                    return Choice(org["text"], pat.id, f"the org row after 的 ({pat.where})"), org["end"]
                w = self.cr.words           # (…的实验实训大楼|本学期|投入使用: a time word is no part of it)
                noun = clean_name(strip_end(strip_end(m.group("entity"), w.get("modal")), w.get("time_word"))) \
                    if m else ""
                if noun and not ends_with(noun, self.cr.words.get("rate_end")):    # …的大棚占比: an indicator
                    doer = first[1] if first is not None else None    # (an org row, a place: 泸州市今年在建的…)
                    return Choice(noun, pat.id, f"the noun after 的 before the verb ({pat.where})",
                                  owner=t[p:doer] if doer else ""), p + m.end("entity")
        if first is None and not verb_subject:
            h = self._head_end(p, end, MAX_NAME)       # …，中心将…: a facility or body opening the clause before
            modal = self.cr.words.get("modal")         # an adverb is its subject (not 项目总投资…: an indicator)
            if h and h - p > 1 and clean_name(t[p:h]) == t[p:h] and modal is not None and modal.length_at(t, h, end):
                return Choice(t[p:h], "lists/context_head.txt", "a facility or body opening the clause, "
                                                                "before an adverb"), h
            return None
        if first is None:
            prep = self.cr.words.get("preposition")
            h = self._head_end(p, end, MAX_NAME) if fresh and not (prep and prep.match(t, p, end)) else None
            if h and h - p > 1 and self._named_head(p, h) and clean_name(t[p:h]) == t[p:h]:
                # 某某产业园项目总投资58亿元: the project (a head alone, 厂|用电率, is no name; 母港 is a noun)
                self.bare_head = True
                return Choice(t[p:h], "lists/context_head.txt", "a project or facility opening the clause"), h
            bv = self._before_verb(p, end)
            if bv and named_only and not (bv[0].value.startswith(OPEN_QUOTE) or
                                          ends_with(bv[0].value, self.cr.words.get("head"))):
                return None                   # …；失业保险基金累计结余…: an indicator, not a new subject
            return bv
        how, q = first
        if how == REFERENCE_RULE and q in self.orgs:     # 该所 + 固体润滑国家重点实验室: a unit of the body
            how, q = "org rows", self.orgs[q]["end"]
        elif how in (REFERENCE_RULE, PLACE_RULE) and self._classified(q):   # 全市 + 12个 + 特色夜市: the things counted
            c = self.counts[q]["end"]
            n = self._noun_end(c, end)
            if n is not None and clean_name(t[c:n]):
                self.owner = (Choice(t[p:q], how, "the reference word before the count of the subject"), q)
                return Choice(t[c:n], how, "the things counted after a reference word opening the clause"), n
        parts = [(p, q)]
        while q + 1 < end and ORG_JOIN.match(t[q]) and (nxt := self._name_at(q + 1, end)) is not None:
            parts.append((q + 1, nxt[1]))
            q = nxt[1]
        etc = self._etc(q, end) if len(parts) > 1 else None
        if etc:                              # 甲医院、乙医院等6家医院: the list and what it is
            q = etc
        if len(parts) > 1 and q < end and t[q] == LIST_PARTNER:    # 甲、乙等医院与丙医院共建…: all of them
            q = self._noun_end(q + 1, end) or q
        elif len(parts) == 1 and how != REFERENCE_RULE and self._may_extend(q, end):   # 全市 is whole
            h = self._head_end(q, end)
            if h:                             # a facility of the name: 银川 + 河东国际机场
                self.bare_head = True         # (北滩镇枸杞种植基地8000亩: right before a figure, what it measures)
                return Choice(t[p:h], "lists/context_head.txt", "a name and a facility head opening the clause"), h
            before_verb = self._before_verb(p, end)
            if before_verb and before_verb[1] > q and self._extends(q, before_verb[1]) \
                    and not self._verb_noun_figure(before_verb[1], end):
                return before_verb            # the name's own part: 兰州市财政, 甲大学第二医院新院区工程
        self.parts = parts if len(parts) > 1 else []
        return Choice(t[p:q], how, "the org row(s) or place words opening the clause"), q

    def _named_head(self, p: int, h: int) -> bool:
        """Does text[p:h], ending in a head, name a facility: a head of two or more characters ends it,
        or it is at least MIN_SHORT_HEAD_NAME long (天津港, not 母港: a plain noun)?"""
        heads = self.cr.words.get("head")
        return h - p >= MIN_SHORT_HEAD_NAME or any(h - n >= p and n > 1 and self.text[h - n:h] in heads.words
                                                   for n in heads.lengths)

    def _classified(self, q: int) -> bool:
        """Is a count row at q, its measure word one that needs a noun (12个…, not 9城)?"""
        c, w = self.counts.get(q), self.cr.words.get("classifier")
        return c is not None and w is not None and c["text"][-1:] in w.words

    def _noun_list(self, p: int, end: int) -> tuple[Choice, int] | None:
        """A list of plain nouns, 等 and what they are (中山桥、白塔山等景点, 甲鼓、乙鼓等非遗项目) opening
        the clause: the whole list (context.subject_list), org rows among its names or not (科伦药业、
        百利天恒等12家上市公司); after a reference word (后者将在甲、乙等领域…) there is no list."""
        pat = self.cr.patterns.get("context.subject_list")
        ref = self.cr.words.get("reference")
        if pat is None or (ref is not None and ref.match(self.text, p, end)):
            return None
        m = pat.match_at(self.text, p, end)
        if not m or self._holds_preposition(p, p + m.end()):
            return None
        items = [(p + a, p + b) for a, b in _items(m.group())]
        if self.text.startswith(RESPECTIVELY, items[-1][1]):
            items[-1] = (items[-1][0], self._last_name_end(items))
        q = items[-1][1] if self.text.startswith(RESPECTIVELY, p + m.end()) else self._etc(p + m.end(), end)
        if q is None or (q == p + m.end() and self._measured_out(items, q, end)):
            return None
        if q < end and self.text[q] == LIST_PARTNER:     # 甲、乙等医院与丙医院共建…: all of them
            q = self._noun_end(q + 1, end) or q
        self.parts = items
        return Choice(self.text[p:q], pat.id, f"a list of names, 等 and what they are ({pat.where})"), q

    def _last_name_end(self, items: list[tuple[int, int]]) -> int:
        """Where the last name of a list before 分别 ends: at its org row or place word (甲法院、乙法院|
        收案数分别为…), else after the last character the other names all end with, when it is written
        in it (椒江区、黄岩区、路桥区|日均骑行量…); else at the end of the item."""
        a, b = items[-1]
        name = self._name_at(a, b)
        if name is not None and name[1] < b:
            return name[1]
        ends = {self.text[y - 1] for _, y in items[:-1]}
        if len(ends) == 1 and not any(c in self.text[a:b] for c in "和及"):    # (3号线和4号线: two names)
            k = self.text.find(ends.pop(), a + 1, b)
            if 0 < k < b - 1:
                return k + 1
        return b

    def _measured_out(self, items: list[tuple[int, int]], q: int, end: int) -> bool:
        """Are the names before 分别 at q what the figures measure (规模以上工业增加值、固定资产投资分别
        增长5.4%、3.7%): a change or link word right before a figure follows, and no name is an org row,
        a place or reference word or a facility?"""
        t, w = self.text, self.cr.words
        v = q + len(RESPECTIVELY)
        n = max((x.length_at(t, v, end) for x in (w.get("up"), w.get("down"), w.get("link"), w.get("level_verb"))
                 if x is not None), default=0)
        if not n or v + n >= end or not t[v + n].isdigit():
            return False
        heads = w.get("head")
        return not any(self._name_at(a, b) is not None or (heads is not None and ends_with(t[a:b], heads, whole=True))
                       for a, b in items)

    def _holds_preposition(self, a: int, b: int) -> bool:
        """Does text[a:b] hold a preposition of two or more characters of lists/context_preposition.txt
        (兰州新区依托甲、乙等…: no list of names; one character, 经 of 经开区, may be a name's)?"""
        return holds_word(self.cr.words.get("preposition"), self.text, a, b, shortest=2)

    def _etc(self, q: int, end: int) -> int | None:
        """The end of `等[count]noun` at q, the noun running up to a verb, adverb or preposition."""
        m = ETC.match(self.text, q, end)
        return self._noun_end(m.end(), end) if m else None

    def _noun_end(self, a: int, end: int) -> int | None:
        """The end of a noun of at most MAX_ETC_NOUN characters at a: where a verb, adverb, time word
        or preposition of the lists starts (None when none starts within reach)."""
        t, w = self.text, self.cr.words
        stops = [w.get(k) for k in ("modal", "preposition", "stop", "time_word")] + [self.cr.verbs]
        for i in range(a + 1, min(end, a + MAX_ETC_NOUN) + 1):
            if any(r is not None and r.length_at(t, i, end) for r in stops) or self.date_at(i) is not None \
                    or t[i:i + 1] == "的":
                return i           # (…等12家重点企业|1至11月合计实现…: a date ends the noun too, and 的:
                                   # 甲、乙等电商平台|的入驻商户…)
        heads = w.get("head")         # no verb within reach (…非物质文化遗产项目进景区): the first head noun
        for i in range(a + 2, min(end, a + MAX_ETC_NOUN) + 1):
            if heads is not None and any(i - n >= a and t[i - n:i] in heads.words for n in heads.lengths):
                return i
        return None

    def _name_at(self, p: int, end: int) -> tuple[str, int] | None:
        """(rule, end) of an org row, a reference word or a place word at p."""
        org = self.orgs.get(p)
        if org is not None:
            return "org rows", org["end"]
        found = None
        for key, rule in NAME_LISTS:
            r = self.cr.words.get(key)
            n = r.length_at(self.text, p, end) if r is not None else 0
            if n:
                found = rule, p + n
                break
        pat = self.cr.patterns.get("context.subject_place")     # 湄潭县, 兴隆镇: a place by its suffix
        m = pat.match_at(self.text, p, end) if pat is not None and (found is None or found[0] == PLACE_RULE) \
            else None
        if m and (found is None or p + m.end("entity") > found[1]):    # 安阳县, not 安阳 of the place list
            return pat.id, p + m.end("entity")
        if found is not None:
            return found
        if self.text.startswith(THIS, p):        # 该风电场: 该 and a facility of lists/context_head.txt
            h = self._head_end(p + len(THIS), end, MAX_THIS, shortest=True)     # 该馆|单日入馆
            if h is not None:
                return REFERENCE_RULE, h
        return None

    def _head_end(self, q: int, end: int, reach: int = MAX_EXTENSION, shortest: bool = False) -> int | None:
        """The end of the longest (shortest) run of at most `reach` Han characters at q that ends with
        a word of lists/context_head.txt (附属中学新校区), no date, value verb (but one right before a
        head: 改扩建工程) or 的 in it, or None; Latin letters and digits count (G30连霍高速…工程)."""
        heads = self.cr.words.get("head")
        stop = min(end, q + reach)
        if heads is None or self.heads_re.search(self.text, q, stop) is None:    # no head within reach: none
            return None
        t, best = self.text, None
        i, verbs, prep = q, self.cr.verbs, self.cr.words.get("preposition")
        while i < stop and ("\u4e00" <= t[i] <= "\u9fff" or (t[i].isascii() and t[i].isalnum())):
            v = verbs.length_at(t, i, end) if verbs is not None else 0
            if t[i] == "的" or self.date_at(i) is not None or \
                    (v and (i - q < NAME_BEFORE_VERB or heads.length_at(t, i + v, end) < 2)):
                break                      # 某区一季度签约项目, 位于某地的电站: a date, verb or 的 ends the name
                                           # (a verb right before a head, after a name, is part of it:
                                           # …清水驿至忠和段改扩建工程; not 新开工项目, nor a head of
                                           # one character: 中心计划新增|站点)
            if best is not None and prep is not None and prep.length_at(t, i, end) and t[i - 1:i + 1] != LOCATED:
                break                      # 某公司三期项目|在某新区投产: after a head, a preposition ends it
            for n in heads.lengths:
                if i - n + 1 >= q and t[i - n + 1:i + 1] in heads.words:
                    best = i + 1
                    break
            if shortest and best is not None:
                break
            i += 1
        if best is not None and (m := PHASE.match(t, best, end)):     # 冷链物流基地|一期
            best = m.end()
        return best

    def _may_extend(self, q: int, end: int) -> bool:
        """Can the name ending at q go on (a Han character that starts no verb, adverb or preposition, or
        a Latin letter: 唐山|LNG接收站)?"""
        t, w = self.text, self.cr.words
        if q >= end or not ("\u4e00" <= t[q] <= "\u9fff" or (t[q].isascii() and t[q].isalpha())):
            return False
        return not any(r is not None and r.length_at(t, q, end) for r in (self.cr.verbs, w.get("modal"), w.get("preposition")))

    def _extends(self, a: int, b: int) -> bool:
        """text[a:b] can go on a name opening a subject (兰州市|财政, 兰州|地区): short, no verb or preposition."""
        r = self.cr.words.get("preposition")
        return b - a <= MAX_EXTENSION and not (r is not None and r.match(self.text, a, b))

    def _verb_noun_figure(self, e: int, end: int) -> bool:
        """Does a verb-noun with its figure follow e (…|进出口4366亿元, …|投资500亿元)? Then the words
        between a place and it are the indicator's (青岛市|货物贸易进出口), not the place's own part."""
        vn = self.cr.words.get("verb_noun")
        e = skip_words(self.text, e, end, self.cr.words.get("modal"))
        n = vn.length_at(self.text, e, end) if vn is not None else 0
        return bool(n) and e + n < end and self.text[e + n].isdigit()

    def _before_verb(self, p: int, end: int) -> tuple[Choice, int] | None:
        """The words at p before a value verb that has its own object (context.subject_before_verb)."""
        pat = self.cr.patterns.get("context.subject_before_verb")
        m = pat.match_at(self.text, p, end) if pat is not None else None
        if not m:
            return None
        e = p + m.end("entity")
        d = self.last_any_date(p + 1, e)      # 某区一季度签约…: the subject ends at its date
        if d is not None:
            e = d["start"]
            e = p + len(strip_end(self.text[p:e], self.cr.words.get("modal")))   # 某公司计划|今年投资…
        phrase = self.cr.patterns.get("context.time_phrase")    # 某局|暑运期间开行…: and at a time phrase
        if phrase is not None and phrase.possible(self.text, p, e):
            m = phrase.regex.search(self.text, p + 2, e)
            e = m.start() if m else e
        speaker = strip_end(self.text[p:e], self.cr.words.get("speaker"))   # 某中心|相关负责人|介绍
        if len(speaker) < e - p:
            e = p + len(speaker)
        name = clean_name(self.text[p:e])
        pronoun = self.cr.words.get("pronoun")
        if pronoun is not None and name in pronoun.words:
            return None                # “我们计划…”: no entity
        title = self.cr.words.get("title")
        if holds_word(title, name, shortest=2):
            return None                # 董事长刘建平在…表示: a person, no entity
        return (Choice(name, pat.id, f"the words before the verb ({pat.where})"), e) if name else None


def _items(s: str) -> list[tuple[int, int]]:
    """The (start, end) of each name of a list written with 、."""
    out, a = [], 0
    for i, ch in enumerate(s + "、"):
        if ch == "、":
            out.append((a, i))
            a = i + 1
    return out



"""Retrieval quality on the real model and corpus: the dev-set targets of
docs/evaluation.md, calibrated abstention, and quotes that are always exact
slices of the canonical text."""

import pytest

from briefing_qa.evaluate import evaluate, load_questions
from tests.conftest import ROOT, SHARED, report_half

DEV = SHARED / "eval" / "dev.jsonl"


@pytest.fixture(scope="module")
def dev_report(retriever):
    # A missing question file fails: a skip would hide the quality targets.
    assert DEV.is_file(), f"{DEV} not found: set BRIEFING_QA_SHARED to the folder holding eval/dev.jsonl"
    return evaluate(retriever, load_questions(DEV))


def test_dev_targets(dev_report):
    r = dev_report
    assert r.hit_at_5 == 1.0, r.missed_at_5
    assert r.hit_at_1 >= 0.85, r.missed_at_1
    assert r.mrr_at_10 >= 0.90
    assert r.section_accuracy >= 0.95, r.wrong_section
    assert r.oos_abstained == r.n_out_of_scope, r.oos_answered
    assert r.wrongly_abstained == 0, r.abstained_answerable


def test_abstains_on_general_questions_but_not_on_answerable_ones(retriever):
    off = [q for q in load_questions(ROOT / "bench" / "offtopic.jsonl") if q.kind == "out_of_scope"]
    abstained = sum(retriever.ask(q.question).abstained for q in off)
    assert abstained >= 0.9 * len(off)
    check = evaluate(retriever, load_questions(ROOT / "bench" / "check.jsonl"))
    assert check.wrongly_abstained == 0 and check.hit_at_5 >= 0.8


def test_abstains_on_near_domain_questions_the_cosine_floor_lets_through(retriever):
    """Questions about the field that the documents do not answer (Scotland's
    hearings, child benefit rates, a kinship allowance, Clare's law): the
    learned rule (abstention.py, fitted on other questions) abstains on
    several that the cosine floor answers, while answerable blind questions
    it never saw (the report halves) are abstained on at most about 1 in 50,
    questions from everyday situations (the report halves of bench/everyday.jsonl
    and bench/everyday2.jsonl, two writers) rarely, and a keyword the
    documents use is answered however short."""
    from dataclasses import replace

    from briefing_qa.retrieval import Retriever

    assert retriever.abstention is not None  # fitted for the served (adapted) encoder
    floor = Retriever(retriever.stored, retriever.embedder, retriever.lexical, retriever.abstain_cosine,
                      options=retriever.options, learned_abstention=False)
    everyday = load_questions(ROOT / "bench" / "everyday.jsonl") + load_questions(ROOT / "bench" / "everyday2.jsonl")
    near = load_questions(ROOT / "bench" / "neardomain.jsonl") + [q for q in everyday if not q.answerable]
    # Both read without the sum-or-phone-number rule (Signals.lacks), which
    # abstains for either alike: this measures the learned rule alone.
    asked = [retriever.ask(q.question) for q in near]
    learned = sum(retriever.abstains(replace(a.signals, lacks=None)) for a in asked)
    floored = sum(floor.abstains(replace(floor.ask(q.question).signals, lacks=None)) for q in near)
    assert learned >= floored + 4, (learned, floored)  # measured 12 against 4 (of 66)
    assert sum(a.abstained for a in asked) >= learned
    r = evaluate(retriever, report_half())
    assert r.n_answerable >= 80 and r.wrongly_abstained <= r.n_answerable / 50 + 1, r.abstained_answerable
    e = evaluate(retriever, [q for q in everyday if q.answerable and q.split == "report"])
    assert e.n_answerable == 44 and e.wrongly_abstained <= 6, e.abstained_answerable  # measured 3 (fitted without everyday2: 5)
    for keyword in ("sexting", "dsl", "LADO", "upskirting"):
        assert not retriever.ask(keyword).abstained, keyword


def test_a_sum_or_a_phone_number_asked_for_is_given_only_where_a_passage_holds_one(retriever):
    """The documents name no sums of money: "how much is the allowance" is
    abstained on, however close passages about fostering come, and says
    why. A phone number they do give is answered with it."""
    for q in ("how much is the weekly fostering allowance for a 14 year old", "what does an enhanced DBS check cost?",
              "LADO phone number for Leeds"):
        got = retriever.ask(q)
        assert got.abstained and got.signals.lacks in ("an amount of money", "a phone number"), q
        assert got.to_json(q)["missing"] == got.signals.lacks
    got = retriever.ask("nspcc helpline number for staff")
    assert not got.abstained and got.to_json("")["missing"] is None
    assert any("0808 800 5000" in p.quote for p in got.passages[:3])
    # A count of numbers is a count, not a phone number asked for.
    got = retriever.ask("how many emergency contact numbers should a school keep for each pupil")
    assert not got.abstained and got.signals.lacks is None


def test_a_question_about_another_nation_is_answered_only_where_the_guidance_speaks_of_it(retriever):
    """The documents are England's guidance: Scotland's or Wales's own rules
    are abstained on, and it says why; a duty the guidance gives "in England
    and Wales" is answered."""
    for q, nation in (("what age is a child criminally responsible in Scotland?", "Scotland"),
                      ("Wales child protection register - how do we check it", "Wales")):
        got = retriever.ask(q)
        assert got.abstained and got.signals.lacks == f"what applies in {nation}", q
        assert got.to_json(q)["missing"] == f"what applies in {nation}"
    got = retriever.ask("does the duty on teachers to report FGM apply in Wales too?")
    assert not got.abstained and got.signals.lacks is None
    assert any("England and Wales" in p.quote and "FGM" in p.quote for p in got.passages[:3])


def test_word_piece_matching_finds_answers_worded_differently(retriever):
    """The blind report halves, asked with and without the late-interaction
    list (tokens.py) on the same index: it puts the answer first more often
    and never out of the top 5 more often. Measured with the encoder trained
    on 360 questions (2026-12-04, night): hit@1 / hit@5 / MRR@10 0.685 /
    0.924 / 0.795 against 0.620 / 0.913 / 0.740. With the earlier, weaker
    encoders it also lifted hit@5 by 0.03 or more (0.891 against 0.837); the
    better the dense list, the less there is for it to add at 5."""
    from dataclasses import replace

    from briefing_qa.retrieval import Retriever

    assert retriever.tokens is not None  # the index has its word-piece vectors
    plain = Retriever(retriever.stored, retriever.embedder, retriever.lexical, retriever.abstain_cosine,
                      options=replace(retriever.options, late_weight=0.0))
    qs = report_half()
    late, without = evaluate(retriever, qs), evaluate(plain, qs)
    assert late.hit_at_1 >= without.hit_at_1 + 0.03, (late.summary(), without.summary())
    assert late.mrr_at_10 >= without.mrr_at_10 + 0.03, (late.summary(), without.summary())
    assert late.hit_at_5 >= without.hit_at_5 and late.hit_at_5 >= 0.8, late.missed_at_5


def test_quotes_are_exact_slices(retriever):
    questions = [q.question for q in load_questions(DEV)] if DEV.exists() else []
    questions += ["What is CSE?", "What does a designated safeguarding lead do?", "behavior policy", "How are LCSPRs commissioned?"]
    for q in questions:
        for p in retriever.ask(q, top_k=10).passages:
            doc = retriever.documents[p.citation.document_id]
            s, e = p.source_offsets
            assert p.quote == doc.text[s:e]
            assert all(0 <= a < b <= len(p.quote) for a, b in p.highlights)


def test_abbreviations_are_mined_from_the_corpus(retriever):
    from briefing_qa import analysis

    assert "child sexual exploitation" in retriever.vocabulary.abbreviation_expansions("What is CSE?")
    assert "DSL" in retriever.vocabulary.abbreviation_expansions("What does the designated safeguarding lead do?")
    # And the query's BM25 terms carry them, stemmed as the index is.
    q = retriever.analyse("What is CSE?")
    assert set(analysis.index_tokens("child sexual exploitation").split()) <= set(q.expansions)


def test_a_short_form_typed_alone_finds_the_passages_about_it(retriever):
    """An intranet search box gets "dsl" or "lado" alone. "dsl" put a KCSIE
    case study that says "the DSL" six times first, on its rare word pieces;
    the documents write "designated safeguarding lead" out 128 times, so the
    encoder reads that too. "LADO" they use as letters: it stays."""
    assert {"DSL", "CME"} <= retriever.vocabulary.written_out and "LADO" not in retriever.vocabulary.written_out
    for typed, heading in [("dsl", "designated safeguarding lead"), ("lado", "allegation"),
                           ("CME definition", "missing education")]:
        first = retriever.ask(typed).passages[0]
        where = f"{first.citation.document_id} › {' › '.join(first.citation.section_path)}".lower().replace("-", " ")
        assert heading in where, (typed, where, first.quote[:80])


def test_repeated_text_is_shown_once(retriever):
    """The national framework's one-page summary restates its purpose
    chapter: one passage (the first occurrence), the repeat cited in also_in."""
    res = retriever.ask("What is the purpose of children's social care?", top_k=5)
    quotes = [" ".join(p.quote.split()) for p in res.passages]
    key = "Children’s social care exists to support children, young people and families"
    assert sum(key in q for q in quotes) == 1
    assert any(p.also_in for p in res.passages if key in " ".join(p.quote.split()))



def test_highlights_mark_the_sentence_nearest_in_meaning_and_the_one_sharing_most_words(retriever):
    """The sentence most like the question by the real model (re-embedded
    here, not read from the index) is always marked, so a paraphrase that
    shares no word with the answer is still marked where it stands; at most
    three more are marked (the next nearest when nearly as near, and the ones
    whose word pieces and whose words best meet the question's)."""
    import numpy as np

    from briefing_qa.analysis import fold_quote as squash
    from briefing_qa.chunking import embedded_sentence_spans
    from briefing_qa.highlight import leans_back

    question = "When can a school take a child off roll for not turning up for weeks?"
    res = retriever.ask(question, top_k=10)
    qv = retriever.embedder.embed([question])[0]
    for p in res.passages:
        start, end = p.source_offsets
        chunks = [c for c in retriever.chunks if c.document_id == p.citation.document_id and start <= c.start and c.end <= end]
        spans = [(c.start - start + s, c.start - start + e, c.context[: len(c.context) - len(c.text)] + c.text[s:e])
                 for c in chunks for s, e in embedded_sentence_spans(c.text)]
        sims = np.asarray(retriever.embedder.embed([t for _, _, t in spans])) @ qv
        best = spans[int(np.argmax(sims))]
        assert (best[0], best[1]) in p.highlights, (p.quote[:80], p.highlights)
        # At most three more picks, and the sentences they are read with: after
        # a lead-in ending with ":", before or after one opening with a word
        # that points back ("They …", "It …"), and a short list's items.
        hs = p.highlights
        brought = sum(1 for k, (s, e) in enumerate(hs)
                      if (k and p.quote[:hs[k - 1][1]].rstrip().endswith(":")) or leans_back(p.quote, s)
                      or (k + 1 < len(hs) and leans_back(p.quote, hs[k + 1][0])) or p.quote.startswith("•", s))
        assert hs and len(hs) - brought <= 4
    # Children missing education's 20-school-day rule, worded nothing like the
    # question. It stood first before late interaction (tokens.py); now it is
    # 3rd (the service's int8 encoder) to 6th (torch's): "weeks" and "off"
    # match a KCSIE passage on supervision word for word (docs/evaluation.md
    # records this loss beside the blind questions' gains).
    answer = "Where a pupil has been continuously absent from the school for a period of 20 school days or more"
    holding = [p for p in res.passages if answer in squash(p.quote)]
    assert holding, [p.quote[:60] for p in res.passages]
    assert any(answer in squash(holding[0].quote[s:e]) for s, e in holding[0].highlights)


@pytest.mark.parametrize("question, definition", [
    ("what is contextual safeguarding", "Contextual Safeguarding is an approach to safeguarding children and young people"),
    ("reasonable force - what does it mean", "The term 'reasonable force' covers the broad range of actions"),
    ("CONTEXTUAL SAFEGUARDING?", "Contextual Safeguarding is an approach to safeguarding children and young people"),
])
def test_a_question_asking_what_something_is_has_the_sentence_defining_it_marked(retriever, question, definition):
    """The passage holding the definition marks it, though another sentence
    of the passage ("… is an approach developed by Dr Carlene Firmin") may
    be nearer the question or share more of its words."""
    from briefing_qa.analysis import fold_quote as squash

    holding = [p for p in retriever.ask(question, top_k=5).passages if definition in squash(p.quote)]
    assert holding, question
    p = holding[0]
    assert any(squash(p.quote[s:e]).startswith(definition) for s, e in p.highlights), [p.quote[s:e] for s, e in p.highlights]


def test_a_marked_sentence_pointing_back_is_marked_with_the_one_it_points_to(retriever):
    """"They should be mindful …", "It helps police and schools …" cannot
    be read alone: wherever one is marked, so is the sentence before it."""
    from briefing_qa.highlight import leans_back
    from briefing_qa.structure import sentence_spans

    seen = 0
    for question in ("do I still pass on a worry if I think a colleague already has", "how does operation encompass help children",
                     "what did the reviews say about professionals working with adolescents"):
        for p in retriever.ask(question, top_k=10).passages:
            spans = sentence_spans(p.quote)
            for s, _ in p.highlights:
                k = next(j for j, (a, b) in enumerate(spans) if a <= s < b)
                if k and leans_back(p.quote, spans[k][0]):
                    seen += 1
                    a, b = spans[k - 1]
                    assert any(hs < b and a < he for hs, he in p.highlights), (p.quote[a:b], p.quote[spans[k][0]:spans[k][1]])
    assert seen >= 2


def test_mistyped_questions_are_still_answered(retriever):
    """Hurried typing: the report halves' questions with two letters swapped
    in their two longest words ("chlidren", "aanlysis"). Read as the
    documents' words (vocabulary.py), they are answered nearly as well as
    when spelled right and far better than as typed, and at most one more is
    abstained on than when spelled right (a slip in a word the documents
    never use, "eivction", "celaned", is read as the common English word one
    edit away); each correction is reported."""
    from dataclasses import replace

    from briefing_qa.evaluate import Question
    from briefing_qa.retrieval import Retriever

    def mistype(text: str) -> str:
        words = text.split()
        for i in sorted(range(len(words)), key=lambda i: -len(words[i]))[:2]:
            w = words[i]
            if len(w) > 4:
                words[i] = w[0] + w[2] + w[1] + w[3:]
        return " ".join(words)

    clean = report_half(with_context=False)
    qs = [Question(q.id, mistype(q.question), q.accept, q.section, q.kind) for q in clean]
    assert sum(a.question != b.question for a, b in zip(qs, clean)) >= 35
    r = evaluate(retriever, qs)
    spelled = evaluate(retriever, clean)
    assert r.wrongly_abstained <= spelled.wrongly_abstained + 1, (r.abstained_answerable, spelled.abstained_answerable)
    as_typed = evaluate(Retriever(retriever.stored, retriever.embedder, retriever.lexical, retriever.abstain_cosine,
                                  options=replace(retriever.options, typos=False)), qs)
    assert r.hit_at_5 >= max(0.75, as_typed.hit_at_5 + 0.1, spelled.hit_at_5 - 0.03), (r.summary(), as_typed.summary())
    fixed = retriever.ask(mistype("What share of the serious case reviews involved neglect?")).corrections
    assert fixed == (("ivnolved", "involved"), ("ngelect", "neglect")), fixed


def test_an_operators_threshold_is_the_whole_abstention_rule(corpus_index, served_embedder):
    """BRIEFING_QA_ABSTAIN_THRESHOLD set: the cosine alone decides, as documented."""
    from dataclasses import replace

    from briefing_qa.service import Engine

    r = Engine(replace(corpus_index, abstain_threshold=0.3), served_embedder).load()
    assert r.abstention is None and r.abstain_cosine == 0.3
    a = r.ask("How do I get an EHCP for my child?")
    assert a.abstained == (a.best_cosine < 0.3)

"""Adapting the encoder to the corpus: the training pairs, the provenance,
and how the service finds the adapted model. (Training itself runs on the
real model in the integration tier: tests/integration/test_adaptation.py.)"""

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing_qa import adaptation
from briefing_qa.adaptation import (
    ADAPTED_DIR,
    PROVENANCE,
    Adaptation,
    Recipe,
    question_pairs,
    read_questions,
    training_pairs,
    up_to_date,
)
from briefing_qa.cli import app
from briefing_qa.embedding import model_name
from briefing_qa.errors import InvalidRequest, TooLittleText
from briefing_qa.evaluate import Question
from briefing_qa.records import Chunk
from briefing_qa.settings import Settings, default_model

LONG = ("Practitioners should record the reasons for every decision not to refer a child to children's social care. "
        "The designated safeguarding lead keeps these records securely and reviews them each term with the head. "
        "See Annex B. ")


def chunk(n: int, text: str = LONG) -> Chunk:
    text = text + f"Chunk number {n} has its own closing sentence about local arrangements here."
    return Chunk(id=f"c{n}", document_id="d", section_id=f"s{n}", section_path=("Part one", f"Section {n}"),
                 kind="paragraph", start=0, end=len(text), text=text, context=f"Guide › Section {n}: {text}")


def info(**kw) -> Adaptation:
    base = dict(name="all-MiniLM-L6-v2+adapted", base="all-MiniLM-L6-v2", base_id="all-MiniLM-L6-v2@sha256:aa",
                recipe=asdict(Recipe()), documents={"d": "ff"}, pairs=64, steps=2, first_loss=1.5, last_loss=0.8,
                seconds=1.0, created="2026-12-03T00:00:00Z")
    return Adaptation(**{**base, **kw})


def write(folder: Path, a: Adaptation) -> Path:
    folder.mkdir(parents=True)
    (folder / PROVENANCE).write_text(json.dumps(asdict(a)), encoding="utf-8")
    (folder / "config_sentence_transformers.json").write_text("{}", encoding="utf-8")
    return folder


def test_pairs_are_a_sentence_and_its_chunk_without_it():
    chunks = [chunk(n) for n in range(40)]
    pairs = training_pairs(chunks, Recipe(per_chunk=2, keep=0.0))
    assert len(pairs) == 80
    for p in pairs:
        assert len(p.query.split()) >= 8 and "See Annex B." != p.query  # short sentences say too little
        assert p.query not in p.passage  # the model must find the chunk by meaning, not by the same words
        assert p.passage.startswith("Guide › Section") and p.key in [c.text for c in chunks]


def test_pairs_are_repeatable_and_some_keep_their_sentence():
    chunks = [chunk(n) for n in range(200)]
    a, b = training_pairs(chunks, Recipe()), training_pairs(chunks, Recipe())
    assert a == b
    kept = sum(p.query in p.passage for p in a) / len(a)
    assert 0.03 < kept < 0.2  # Recipe.keep = 0.1
    assert training_pairs(chunks, Recipe(seed=1)) != a


def test_a_text_standing_twice_gives_pairs_once():
    twin = replace(chunk(1), id="other", section_id="annex")
    pairs = training_pairs([chunk(1), twin], Recipe(per_chunk=3))
    assert len(pairs) == 3


def test_too_little_text_is_a_clear_error_before_any_model_loads():
    with pytest.raises(TooLittleText, match="too little text"):
        adaptation.train("/no/such/model", training_pairs([chunk(1)], Recipe()), Recipe())


def test_provenance_decides_what_is_an_adapted_model(tmp_path):
    assert Adaptation.read(tmp_path / "none") is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / PROVENANCE).write_text("{not json", encoding="utf-8")
    assert Adaptation.read(broken) is None
    other = write(tmp_path / "future", info(format=99))
    assert Adaptation.read(other) is None
    good = write(tmp_path / "good", info())
    assert Adaptation.read(good) == info()
    assert model_name(str(good)) == "all-MiniLM-L6-v2+adapted"  # the manifest tells it from the bundled model


def test_up_to_date_only_for_the_same_base_and_recipe(tmp_path):
    folder = write(tmp_path / "m", info())
    assert up_to_date(folder, "all-MiniLM-L6-v2@sha256:aa") == info()
    assert up_to_date(folder, "all-MiniLM-L6-v2@sha256:bb") is None
    assert up_to_date(folder, "all-MiniLM-L6-v2@sha256:aa", Recipe(lr=1e-4)) is None


def test_the_service_prefers_an_adapted_model_in_the_index(tmp_path):
    index = tmp_path / "index"
    assert Settings.from_env(env={}, index=index).model_path == default_model()
    write(index / ADAPTED_DIR, info())
    assert Settings.from_env(env={}, index=index).model_path == str(index / ADAPTED_DIR)
    # BRIEFING_QA_MODEL, when set, is what is used.
    assert Settings.from_env(env={"BRIEFING_QA_MODEL": "/m"}, index=index).model_path == "/m"


def test_adapt_command_skips_a_model_already_adapted(tmp_path, monkeypatch):
    from briefing_qa.embedding import model_identity

    index = tmp_path / "index"
    write(index / ADAPTED_DIR, info(base_id=model_identity(default_model())))
    result = CliRunner().invoke(app, ["adapt", "--index", str(index)], env={})
    assert result.exit_code == 0, result.output
    assert "already adapted" in result.output and "--force" in result.output


def test_adapt_command_on_too_little_text_is_one_line(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "note.md").write_text("# Note\n\nOne short paragraph about a local escalation panel and its meetings.\n",
                                 encoding="utf-8")
    result = CliRunner().invoke(app, ["adapt", str(src), "--index", str(tmp_path / "index")], env={})
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("error: the sources give")
    assert not (tmp_path / "index" / ADAPTED_DIR).exists()


def _questions(tmp_path: Path, *records: dict, name: str = "q.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_questions_marked_report_are_never_read(tmp_path):
    path = _questions(
        tmp_path,
        {"id": "a", "question": "How often is DSL training?", "accept": ["every two years"], "split": "tune"},
        {"id": "b", "question": "Who keeps the records?", "accept": ["the designated safeguarding lead"]},
        {"id": "c", "question": "What did the reviews find?", "accept": ["neglect"], "split": "report"},
        {"id": "d", "question": "and at school?", "accept": ["school"], "context": ["What is neglect?"]},
        {"id": "e", "question": "Who won the World Cup?", "accept": []},
    )
    examples, hashes = read_questions([path])
    assert [e.question for e in examples] == ["How often is DSL training?", "Who keeps the records?"]
    assert list(hashes) == ["q.jsonl"] and len(hashes["q.jsonl"]) == 64


def test_a_bad_questions_file_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidRequest, match="cannot read the questions file"):
        read_questions([tmp_path / "missing.jsonl"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "ok", "accept": ["x"]}\n{"id": "b", "accept": ["no question"]}\n', encoding="utf-8")
    with pytest.raises(InvalidRequest, match=r"bad.jsonl:2: not a question record"):
        read_questions([bad])


def test_question_pairs_take_the_answer_chunk_and_the_best_wrong_one():
    chunks = [chunk(n) for n in range(5)]
    ex = [Question("a", "when is a chunk number three?", ("Chunk number 3 has",), None, ""),
          Question("b", "nowhere", ("not in any chunk",), None, "")]
    pairs = question_pairs(ex, chunks, lambda e: [3, 1, 2])
    assert len(pairs) == 1  # no chunk holds the second answer
    p = pairs[0]
    assert p.query == ex[0].question and p.key == chunks[3].text and p.passage == chunks[3].context
    assert p.negative == chunks[1].context and p.negative_key == chunks[1].text  # the best ranked without the answer


def test_other_question_files_call_for_another_adaptation(tmp_path):
    q1 = _questions(tmp_path, {"id": "a", "question": "Who keeps the records?", "accept": ["the DSL"]}, name="one.jsonl")
    folder = write(tmp_path / "m", info(questions=read_questions([q1])[1]))
    assert up_to_date(folder, "all-MiniLM-L6-v2@sha256:aa", questions=[q1]) is not None
    assert up_to_date(folder, "all-MiniLM-L6-v2@sha256:aa") is None  # adapted on questions, none given now
    q1.write_text(q1.read_text(encoding="utf-8") + json.dumps({"id": "b", "question": "More?", "accept": ["x"]}) + "\n",
                  encoding="utf-8")
    assert up_to_date(folder, "all-MiniLM-L6-v2@sha256:aa", questions=[q1]) is None


def test_adapt_command_names_a_missing_questions_file(tmp_path):
    result = CliRunner().invoke(app, ["adapt", "--index", str(tmp_path / "index"), "--questions",
                                      str(tmp_path / "nope.jsonl")], env={})
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error: cannot read the questions file")
    assert not (tmp_path / "index" / ADAPTED_DIR).exists()


def test_training_questions_come_from_the_environment_too():
    s = Settings.from_env(env={"BRIEFING_QA_TRAINING_QUESTIONS": "bench/a.jsonl,bench/b.jsonl"})
    assert s.training_questions == (Path("bench/a.jsonl"), Path("bench/b.jsonl"))

"""Answer rules: what each question type accepts, which questions are shown, what is missing."""

from datetime import date

import pytest

from reporting.answers import AnswerError, clean_value, missing_required, visible_questions
from reporting.models import Question, QuestionType
from tests.reporting.factories import CHOICES, make_questionnaire

T = QuestionType
# (the shared conftest clears the cache around every test; without Redis that is the database)
pytestmark = pytest.mark.django_db


def q(qtype: str, **extra) -> Question:
    return Question(code=f"q-{qtype}", text="?", type=qtype, choices=extra.pop("choices", CHOICES),
                    **extra)


@pytest.mark.parametrize(("qtype", "raw", "clean"), [
    (T.YES_NO, True, True),
    (T.YES_NO, False, False),
    (T.YES_NO, "yes", True),
    (T.YES_NO, "No", False),
    (T.YES_NO, "on", True),  # an HTML checkbox
    (T.SINGLE, "web", "web"),
    (T.SINGLE, ["print"], "print"),
    (T.MULTIPLE, ["web", "app", "web"], ["web", "app"]),
    (T.MULTIPLE, "print", ["print"]),
    (T.NUMBER, "12", 12),
    (T.NUMBER, 0, 0),
    (T.NUMBER, "3,5", 3.5),  # decimal comma as typed in many countries
    (T.PERCENTAGE, "100", 100),
    (T.PERCENTAGE, 42.5, 42.5),
    (T.SHORT_TEXT, "  https://example.org  ", "https://example.org"),
    (T.LONG_TEXT, "Workshops\nwith partners", "Workshops\nwith partners"),
    (T.DATE, "2025-03-01", "2025-03-01"),
    (T.DATE, date(2024, 2, 29), "2024-02-29"),
])
def test_valid_answers_are_normalised(qtype, raw, clean):
    assert clean_value(q(qtype), raw) == clean


@pytest.mark.parametrize(("qtype", "raw", "message"), [
    (T.YES_NO, "maybe", "Answer yes or no."),
    (T.SINGLE, "fax", "Choose one of the options offered."),
    (T.SINGLE, ["web", "app"], "Choose one option."),
    (T.MULTIPLE, ["web", "fax"], "Choose one of the options offered."),
    (T.NUMBER, "twelve", "Enter a number."),
    (T.NUMBER, "NaN", "Enter a number."),
    (T.NUMBER, "Infinity", "Enter a number."),
    (T.NUMBER, "-1", "Enter a number of zero or more."),
    (T.NUMBER, "1e13", "This number is too large."),
    (T.PERCENTAGE, "100.5", "Enter a percentage between 0 and 100."),
    (T.PERCENTAGE, "-3", "Enter a number of zero or more."),
    (T.SHORT_TEXT, "x" * 501, "Keep this answer under 500 characters."),
    (T.LONG_TEXT, "x" * 20001, "Keep this answer under 20,000 characters."),
    (T.DATE, "01/03/2025", "Enter a date as YYYY-MM-DD."),
    (T.DATE, "2025-02-30", "Enter a date as YYYY-MM-DD."),
    (T.FILE, "policy.pdf", "Attach a file as evidence for this question."),
])
def test_invalid_answers_are_refused_with_a_clear_message(qtype, raw, message):
    with pytest.raises(AnswerError) as exc:
        clean_value(q(qtype), raw)
    assert str(exc.value) == message


@pytest.mark.parametrize("qtype", [t for t in T.values if t != T.FILE])
@pytest.mark.parametrize("empty", [None, "", []])
def test_an_empty_answer_clears_the_question_whatever_its_type(qtype, empty):
    assert clean_value(q(qtype), empty) is None


def test_long_texts_at_the_limit_are_accepted():
    assert len(clean_value(q(T.SHORT_TEXT), "x" * 500)) == 500
    assert len(clean_value(q(T.LONG_TEXT), "x" * 20000)) == 20000


# --- conditional questions and what is missing (on a real questionnaire) -----------------------

@pytest.fixture
def questions():
    questionnaire = make_questionnaire()
    return {question.code: question for question in
            Question.objects.filter(section__questionnaire=questionnaire)
            .order_by("section__order", "order")}


def shown(questions, answers: dict) -> set[str]:
    values = {questions[code].pk: value for code, value in answers.items()}
    return {question.code for question in visible_questions(list(questions.values()), values)}


def test_a_conditional_question_is_hidden_until_its_condition_is_answered(questions):
    assert "policy-file" not in shown(questions, {})
    assert "policy-file" not in shown(questions, {"policy": False})
    assert {"policy-file", "policy-date"} <= shown(questions, {"policy": True})


def test_a_nested_conditional_follows_its_parent_and_its_grandparent(questions):
    assert "public-where" in shown(questions, {"public": True, "public-url": "elsewhere"})
    assert "public-where" not in shown(questions, {"public": True, "public-url": "https://x"})
    # the parent is hidden (public = no): its stale answer must not show the grandchild
    assert "public-where" not in shown(questions, {"public": False, "public-url": "elsewhere"})


def test_a_condition_on_a_multiple_choice_matches_any_chosen_option():
    questionnaire = make_questionnaire(spec=[
        (4, "channels", T.MULTIPLE, True, None, {"choices": CHOICES}),
        (4, "app-name", T.SHORT_TEXT, True, ("channels", "app"), {}),
    ])
    qs = {x.code: x for x in Question.objects.filter(section__questionnaire=questionnaire)}
    assert "app-name" in shown(qs, {"channels": ["web", "app"]})
    assert "app-name" not in shown(qs, {"channels": ["web"]})


def missing_codes(questions, answers: dict, evidence_for: tuple[str, ...] = ()) -> list[str]:
    values = {questions[code].pk: value for code, value in answers.items()}
    with_evidence = {questions[code].pk for code in evidence_for}
    return [m.question.code for m in
            missing_required(list(questions.values()), values, with_evidence)]


def test_every_visible_required_question_without_an_answer_is_missing(questions):
    assert missing_codes(questions, {}) == ["policy", "trained", "channel", "activities",
                                            "public"]


def test_hidden_and_optional_questions_are_never_missing(questions):
    answers = {"policy": False, "trained": 3, "channel": "web", "activities": "x",
               "public": False}
    assert missing_codes(questions, answers) == []


def test_required_questions_revealed_by_an_answer_become_missing(questions):
    answers = {"policy": True, "trained": 3, "channel": "web", "activities": "x",
               "public": True, "public-url": "elsewhere"}
    assert missing_codes(questions, answers) == ["policy-file", "public-where"]


def test_a_required_file_question_needs_evidence_not_an_answer(questions):
    answers = {"policy": True, "trained": 3, "channel": "web", "activities": "x",
               "public": False}
    values = {questions[c].pk: v for c, v in answers.items()}
    missing = missing_required(list(questions.values()), values, set())
    assert [(m.question.code, m.message) for m in missing] == [
        ("policy-file", "Attach at least one file.")]
    assert missing_codes(questions, answers, evidence_for=("policy-file",)) == []


def test_a_zero_or_no_is_an_answer_not_a_missing_one(questions):
    answers = {"policy": False, "trained": 0, "channel": "web", "activities": "x",
               "public": False}
    assert missing_codes(questions, answers) == []
